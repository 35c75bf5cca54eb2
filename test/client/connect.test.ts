// Connect: CONNECT first, `connect` only after CONNACK 0, the CONNACK timeout, refusals and how
// each one retries, connect failures thrown or reported as events, client id rules.
import { describe, it, expect } from "vitest";
import { CHUNKS, MODE, drain, errors, lines, record, rig } from "./helpers";
import { ScriptedBroker } from "../sim/broker";

describe.each(CHUNKS)("connect (chunkSize %s)", (_, chunkSize) => {
  it("sends CONNECT as the first packet, and nothing else before CONNACK [MQTT-3.1.0-1]", () => {
    const { sim, clock, make } = rig({ chunkSize });
    const broker = new ScriptedBroker(sim);
    const c = make({ keepalive: 30, username: "u", password: "p" });
    // The app is busy before the connection is up: all of it waits for CONNACK.
    c.publish("a/b", "x", { qos: 1 });
    c.publish("a/c", "y");
    c.subscribe("s/#", { qos: 1 });
    const connect = broker.expectPacket("connect");
    expect(connect).toMatchObject({ clientId: "dev1", keepalive: 30, clean: true, protocolId: "MQTT", protocolVersion: 4, username: "u" });
    expect(broker.bytes()[0]).toBe(0x10);
    broker.expectNoPacket(5000);
    expect(c.connected).toBe(false);
    broker.connack(0, false);
    clock.flush();
    // (a SUBSCRIBE is not queued behind publishes that wait for the socket to drain)
    expect(lines(drain(broker, 100)).sort()).toEqual(["PUBLISH q0 t=a/c (1 B)", "PUBLISH q1 id=1 t=a/b (1 B)", "SUBSCRIBE id=2 s/#:q1"]);
    expect(sim.violations).toEqual([]);
  });

  it("fires connect only after CONNACK 0, with { sessionPresent, returnCode }", () => {
    const { sim, clock, make } = rig({ chunkSize });
    const broker = new ScriptedBroker(sim);
    const c = make({ clean: false });
    const got: any[] = [];
    c.on("connect", (a: any) => got.push({ ...a, connected: c.connected }));
    broker.expectPacket("connect");
    clock.advance(1000);
    expect(got).toEqual([]);
    broker.connack(0, true);
    clock.flush();
    expect(got).toEqual([{ sessionPresent: true, returnCode: 0, connected: true }]);

    sim.cut();
    broker.expectPacket("connect");
    broker.connack(0, false);
    clock.flush();
    expect(got[1]).toEqual({ sessionPresent: false, returnCode: 0, connected: true });
  });

  it("gives up on a connection without CONNACK after connectTimeout (310), closes it and retries", () => {
    const { sim, clock, make } = rig({ chunkSize });
    const broker = new ScriptedBroker(sim);
    const c = make({ connectTimeout: 5000, reconnectPeriod: 1000 });
    const log = record(c, clock);
    broker.expectPacket("connect");
    const first = broker.conn;
    clock.advance(4800);
    expect(log).toEqual([]);
    clock.advance(300);
    expect(log).toEqual(["@5000 error 310", "@5000 close"]);
    expect(first.state).toBe("closed");
    broker.expectPacket("connect");
    const t = clock.elapsed();
    expect(t - 5000).toBeGreaterThanOrEqual(500);
    expect(t - 5000).toBeLessThanOrEqual(1000);
    broker.connack(0);
    clock.flush();
    expect(log.slice(2)).toEqual([`@${t} reconnect`, `@${t} connect sp=0`]);
  });

  it("applies connectTimeout also to a TCP connect that never completes", () => {
    const { sim, clock, make } = rig({ chunkSize, latency: 3_600_000 });
    new ScriptedBroker(sim);
    const c = make({ connectTimeout: 2000 });
    const codes = errors(c);
    clock.advance(2100);
    expect(codes).toEqual([310]);
    expect(sim.connections[0].state).not.toBe("open");
    expect(sim.violations).toEqual([]);
  });
});

describe("CONNACK refusals", () => {
  /** Refuses the first attempt with `rc`, then accepts; returns the delay to the second attempt. */
  function refuse(rc: number, opts: any = {}) {
    const { sim, clock, make } = rig();
    const broker = new ScriptedBroker(sim);
    const c = make({ reconnectPeriod: 1000, reconnectMax: 20000, ...opts });
    const log = record(c);
    const connects: number[] = [];
    c.on("connect", () => connects.push(clock.elapsed()));
    broker.expectPacket("connect");
    const t0 = clock.elapsed();
    broker.connack(rc);
    clock.flush();
    expect(connects).toEqual([]);
    expect(c.connected).toBe(false);
    return { sim, clock, broker, c, log, t0 };
  }

  for (const rc of [1, 2, 3, 4, 5]) {
    it(`CONNACK ${rc} fires error ${300 + rc} and close, never connect or offline`, () => {
      const { log, broker } = refuse(rc);
      expect(log).toEqual([`error ${300 + rc}`, "close"]);
      expect(broker.conn.state).toBe("closed");
    });
  }

  it("CONNACK 1 (protocol version) stops reconnecting; reconnect() still works", () => {
    const { clock, broker, c, log, sim } = refuse(1);
    clock.advance(24 * 3600 * 1000);
    expect(sim.connections).toHaveLength(1);
    c.reconnect();
    broker.expectPacket("connect");
    broker.connack(0);
    clock.flush();
    expect(log).toEqual(["error 301", "close", "reconnect", "connect sp=0"]);
  });

  for (const rc of [2, 4, 5]) {
    it(`CONNACK ${rc} retries after the longest backoff step (reconnectMax), not the first`, () => {
      const { broker, clock, t0 } = refuse(rc);
      broker.expectConnection(60000);
      const d = clock.elapsed() - t0;
      expect(d).toBeGreaterThanOrEqual(10000);
      expect(d).toBeLessThanOrEqual(20000);
    });
  }

  it("CONNACK 3 (server unavailable) retries with the normal backoff", () => {
    const { broker, clock, t0 } = refuse(3);
    broker.expectConnection(60000);
    const d = clock.elapsed() - t0;
    expect(d).toBeGreaterThanOrEqual(500);
    expect(d).toBeLessThanOrEqual(1000);
  });
});

describe("connect failures", () => {
  // The same sequence whether net.connect throws or the failure arrives later as events.
  const kinds: [string, string, any][] = [
    ["connect() throws", "throw", {}],
    ["DNS failure", "dns", {}],
    ["refused (event)", "event", {}],
    ["timeout (event)", "event", { code: MODE == "node" ? "ETIMEDOUT" : -3, after: 700 }],
  ];
  for (const [name, how, o] of kinds) {
    it(`${name}: error 312, close, then a retry with backoff that connects`, () => {
      const { sim, clock, make } = rig();
      const broker = new ScriptedBroker(sim);
      sim.refuseNext(2, how as any, o);
      const c = make({ reconnectPeriod: 1000 });
      const log = record(c, clock);
      const errnos: any[] = [];
      c.on("error", (e: any) => errnos.push(e.errno));
      broker.expectPacket("connect", 60000);
      broker.connack(0);
      clock.flush();
      const plain = log.map((l) => l.replace(/^@\d+ /, ""));
      expect(plain).toEqual(["error 312", "close", "reconnect", "error 312", "close", "reconnect", "connect sp=0"]);
      const at = log.map((l) => +l.slice(1, l.indexOf(" ")));
      // backoff: the first retry within [500, 1000] ms of the failure, the second within [1000, 2000]
      expect(at[2] - at[1]).toBeGreaterThanOrEqual(500);
      expect(at[2] - at[1]).toBeLessThanOrEqual(1000);
      expect(at[5] - at[4]).toBeGreaterThanOrEqual(1000);
      expect(at[5] - at[4]).toBeLessThanOrEqual(2000);
      expect(errnos[0]).toBeDefined();
      expect(c.stats.reconnects).toBe(2);
      expect(sim.violations).toEqual([]);
    });
  }

  it("with tls, connects over the platform's tls module with the options given, and runs the same session", () => {
    const { sim, clock, make } = rig();
    const broker = new ScriptedBroker(sim);
    const c = make({ port: 8883, tls: { ca: "CA", rejectUnauthorized: true } });
    broker.expectPacket("connect");
    const conn = sim.connections[0];
    expect(conn.secure).toBe(true);
    expect(conn.port).toBe(8883);
    expect(conn.options).toMatchObject({ host: "broker", port: 8883, ca: "CA", rejectUnauthorized: true });
    if (MODE == "node") expect(conn.options.servername).toBe("broker");
    broker.connack(0);
    clock.flush();
    expect(c.connected).toBe(true);
  });

  it("a connection closed by the broker before CONNACK is retried", () => {
    const { sim, clock, make } = rig();
    const broker = new ScriptedBroker(sim);
    const c = make();
    const log = record(c);
    broker.expectPacket("connect");
    broker.end();
    clock.flush();
    expect(log).toEqual(["close"]);
    broker.expectPacket("connect");
    broker.connack(0);
    clock.flush();
    expect(log).toEqual(["close", "reconnect", "connect sp=0"]);
  });
});

describe("client identifier", () => {
  it("clean:false without clientId throws code 106 and opens nothing", () => {
    const { sim, clock, make } = rig();
    expect(() => make({ clientId: undefined, clean: false })).toThrow(expect.objectContaining({ code: 106 }));
    clock.advance(10000);
    expect(sim.connections).toHaveLength(0);
  });

  it("an empty clientId with clean:false is refused (106) before anything is sent [MQTT-3.1.3-7]", () => {
    const { sim, clock, make } = rig();
    expect(() => make({ clientId: "", clean: false })).toThrow(expect.objectContaining({ code: 106 }));
    clock.advance(10000);
    expect(sim.connections).toHaveLength(0);
  });

  const badOptions: [string, any, number][] = [
    ["a will topic with a wildcard", { will: { topic: "status/#", payload: "x" } }, 101],
    ["a will QoS of 3 [MQTT-3.1.2-14]", { will: { topic: "status", payload: "x", qos: 3 } }, 103],
    ["a password without a user name [MQTT-3.1.2-22]", { password: "p" }, 106],
    ["a password of a type that cannot be sent", { username: "u", password: 42 }, 106],
    ["a keepalive over 65,535 s", { keepalive: 70000 }, 106],
    ["a client id that is not valid UTF-8 [MQTT-3.1.3-4]", { clientId: MODE == "node" ? "dev\ud800" : "dev\xff" }, 105],
  ];
  for (const [name, opts, code] of badOptions) {
    it(`${name} throws code ${code} at once and opens nothing`, () => {
      const { sim, clock, make } = rig();
      expect(() => make(opts)).toThrow(expect.objectContaining({ code }));
      clock.advance(10000);
      expect(sim.connections).toHaveLength(0);
    });
  }

  it("an empty clientId with clean:true is sent as it is", () => {
    const { sim, make } = rig();
    const broker = new ScriptedBroker(sim);
    make({ clientId: "" });
    expect(broker.expectPacket("connect")).toMatchObject({ clientId: "", clean: true });
  });

  it("without clientId a random one is made, the same on every connection", () => {
    const { sim, make, clock } = rig();
    const broker = new ScriptedBroker(sim);
    make({ clientId: undefined });
    const id = broker.expectPacket("connect").clientId;
    expect(id).toMatch(/^mqttiny[0-9a-z]{1,8}$/);
    broker.connack(0);
    clock.flush();
    sim.cut();
    expect(broker.expectPacket("connect").clientId).toBe(id);
  });
});
