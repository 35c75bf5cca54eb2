// end(force, cb): stops new publishes (108), waits (at most connectTimeout) for the outbox unless
// forced, sends DISCONNECT, closes, fires `close` (and `end`), then calls cb [MQTT-3.14.4-1, -2].
import { describe, it, expect, vi } from "vitest";
import { CHUNKS, TICK, connected, drain, lines, rig, tapWrites } from "./helpers";
import { ScriptedBroker } from "../sim/broker";

describe.each(CHUNKS)("end() (chunkSize %s)", (_, chunkSize) => {
  it("sends DISCONNECT, closes the connection, fires close, offline and end, then the callback [MQTT-3.14.4-1]", () => {
    const { broker, clock, c, log, sim } = connected({}, {}, { chunkSize });
    c.end(() => log.push("cb"));
    clock.advance(100);
    expect(lines(drain(broker))).toEqual(["DISCONNECT"]);
    expect(log).toEqual(["connect sp=0", "close", "offline", "end", "cb"]);
    expect(sim.connections[0].state).toBe("closed");
    expect(c.connected).toBe(false);
    expect(sim.violations).toEqual([]);
  });

  it("sends nothing after DISCONNECT [MQTT-3.14.4-2]: no PINGREQ, no PUBACK, no publish", () => {
    const r = rig({ chunkSize });
    const writes: number[] = [];
    tapWrites(r.sim, (b) => writes.push(b[0]));
    const broker = new ScriptedBroker(r.sim, { autoClose: false });
    const c = r.make({ keepalive: 1 });
    broker.expectPacket("connect");
    broker.connack(0);
    r.clock.flush();
    c.end();
    const n = writes.length;
    expect(writes[n - 1]).toBe(0xe0);
    c.publish("t", "late");
    broker.send({ cmd: "publish", topic: "t", payload: "x", qos: 1, messageId: 1 });
    r.clock.advance(10_000);
    expect(writes.length).toBe(n);
    expect(lines(drain(broker))).toEqual(["DISCONNECT"]);
  });

  it("waits for unacknowledged publishes before DISCONNECT; new publishes and subscribes fail with 108", () => {
    const { broker, clock, c, log } = connected({}, { inflight: 1 }, { chunkSize });
    const got: string[] = [];
    c.publish("t", "a", { qos: 1 }, (e: any) => got.push("a " + (e ? e.code : "ok")));
    c.publish("t", "b", { qos: 1 }, (e: any) => got.push("b " + (e ? e.code : "ok")));
    c.end(() => got.push("end cb"));
    c.publish("t", "c", { qos: 0 }, (e: any) => got.push("c " + (e ? e.code : "ok")));
    c.subscribe("s", (e: any) => got.push("sub " + (e ? e.code : "ok")));
    expect(got).toEqual(["c 108", "sub 108"]);
    const a = broker.expectPacket("publish");
    broker.send({ cmd: "puback", messageId: a.messageId });
    const b = broker.expectPacket("publish");
    expect(String(b.payload)).toBe("b");
    broker.expectNoPacket(1000);
    broker.send({ cmd: "puback", messageId: b.messageId });
    expect(broker.expectPacket().cmd).toBe("disconnect");
    clock.flush();
    expect(got).toEqual(["c 108", "sub 108", "a ok", "b ok", "end cb"]);
    expect(log.slice(-3)).toEqual(["close", "offline", "end"]);
  });

  it("waits at most connectTimeout for the outbox; what is left then fails with 108", () => {
    const { broker, clock, c } = connected({ connectTimeout: 3000 }, {}, { chunkSize });
    const got: string[] = [];
    c.publish("t", "a", { qos: 1 }, (e: any) => got.push("a " + (e ? e.code : "ok")));
    drain(broker, 10);
    const t0 = clock.elapsed();
    c.end(() => got.push("end cb @" + (clock.elapsed() - t0)));
    broker.expectNoPacket(2800);
    broker.expectPacket("disconnect", 300);
    clock.flush();
    expect(got[0]).toBe("a 108");
    // counted from the client's tick before end(), so up to a tick early
    const waited = +got[1].split("@")[1];
    expect(waited).toBeGreaterThan(3000 - TICK);
    expect(waited).toBeLessThanOrEqual(3000);
  });

  it("end(true) does not wait: DISCONNECT now, queued publishes fail with 108", () => {
    const { broker, clock, c, log } = connected({}, { inflight: 1 }, { chunkSize });
    const got: string[] = [];
    c.publish("t", "a", { qos: 1 }, (e: any) => got.push("a " + (e ? e.code : "ok")));
    c.publish("t", "b", { qos: 1 }, (e: any) => got.push("b " + (e ? e.code : "ok")));
    c.end(true, () => got.push("end cb"));
    expect(got).toEqual(["a 108", "b 108", "end cb"]);
    expect(lines(drain(broker, 100))).toEqual(["PUBLISH q1 id=1 t=t (1 B)", "DISCONNECT"]);
    expect(log.slice(-3)).toEqual(["close", "offline", "end"]);
    clock.flush();
  });
});

describe("end() when not connected", () => {
  it("while offline: no DISCONNECT, queued publishes fail with 108, end then the callback; no reconnect", () => {
    const { broker, clock, c, log, sim } = connected({ reconnectPeriod: 5000 });
    sim.cut();
    clock.flush();
    const got: string[] = [];
    c.publish("t", "q", { qos: 1 }, (e: any) => got.push("q " + (e ? e.code : "ok")));
    c.end(() => got.push("end cb"));
    expect(got).toEqual(["q 108", "end cb"]);
    expect(log.slice(-1)).toEqual(["end"]);
    clock.advance(3_600_000);
    expect(sim.connections).toHaveLength(1);
    expect(drain(broker)).toEqual([]);
  });

  it("while waiting for CONNACK: no DISCONNECT, the socket closed, close then end", () => {
    const { sim, clock, make } = rig();
    const broker = new ScriptedBroker(sim);
    const c = make();
    const log: string[] = [];
    for (const ev of ["close", "offline", "end", "connect"]) c.on(ev, () => log.push(ev));
    broker.expectPacket("connect");
    c.end(() => log.push("cb"));
    broker.connack(0);
    clock.advance(1000);
    expect(log).toEqual(["close", "end", "cb"]);
    expect(drain(broker)).toEqual([]);
    expect(sim.connections[0].state).toBe("closed");
  });

  it("a second end() only calls its callback", () => {
    const { clock, c, log } = connected();
    c.end();
    const n = log.length;
    let called = 0;
    c.end(() => called++);
    clock.flush();
    expect(called).toBe(1);
    expect(log.length).toBe(n);
  });

  it("a link lost while end() waits for the outbox ends the client: no reconnect, the rest fails with 108", () => {
    const { clock, c, sim, log } = connected({ reconnectPeriod: 100 });
    const got: string[] = [];
    c.publish("t", "a", { qos: 1 }, (e: any) => got.push("a " + (e ? e.code : "ok")));
    c.end(() => got.push("end cb"));
    clock.advance(10);
    sim.cut();
    clock.advance(10_000);
    expect(got).toEqual(["a 108", "end cb"]);
    expect(sim.connections).toHaveLength(1);
    expect(log.slice(-3)).toEqual(["close", "offline", "end"]);
  });
});

describe("end() and reconnect() called from listeners of a lost connection", () => {
  it("end() from an `error` listener: `close` still comes before `end`, and the callback last", () => {
    const { sim, make } = rig();
    const broker = new ScriptedBroker(sim);
    const c = make({ reconnectPeriod: 100 });
    broker.expectPacket("connect");
    broker.connack(0, false);
    broker.expectNoPacket(10);
    const order: string[] = [];
    c.on("error", () => {
      order.push("error");
      c.end(true, () => order.push("cb"));
    });
    for (const ev of ["close", "offline", "end"]) c.on(ev, () => order.push(ev));
    broker.send("d0"); // an unsolicited PINGRESP is ignored; a CONNACK now is 211
    broker.send("20020000");
    broker.expectNoPacket(50);
    expect(order).toEqual(["error", "close", "offline", "end", "cb"]);
  });

  it("reconnect() from a `close` listener leaves the backoff reset", () => {
    vi.spyOn(Math, "random").mockReturnValue(0.999999); // jitter at its top: the delay is the step
    const { clock, sim, make } = rig();
    const broker = new ScriptedBroker(sim);
    const c = make({ reconnectPeriod: 1000, reconnectMax: 60000 });
    broker.expectPacket("connect");
    let once = true;
    c.on("close", () => {
      if (once) {
        once = false;
        c.reconnect();
      }
    });
    sim.cut();
    broker.expectPacket("connect"); // the attempt reconnect() made
    sim.cut(); // refused again: the next delay is the first step, at most reconnectPeriod
    const t0 = clock.now();
    broker.expectPacket("connect");
    expect(clock.now() - t0).toBeLessThanOrEqual(1000 + 100);
    vi.restoreAllMocks();
  });
});
