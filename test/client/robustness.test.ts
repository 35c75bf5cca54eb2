// Nothing escapes: no exception leaves a socket or timer callback (clock.advance rethrows what a
// callback throws, so every advance that returns proves it), an app handler that throws is error
// 317, and on Espruino a failed allocation is error 315 and a clean reconnect with no QoS 1
// message lost.
import { describe, it, expect } from "vitest";
import { CHUNKS, MODE, connected, drain, failNextPublishReads, prng, record, rig } from "./helpers";
import { ScriptedBroker } from "../sim/broker";

const boom = () => {
  throw new Error("app bug");
};

describe("handlers that throw", () => {
  it("a message listener and a filter handler that throw are error 317; the message is still acknowledged", () => {
    const { broker, clock, c, log } = connected();
    const causes: any[] = [];
    c.on("error", (e: any) => causes.push(e.errno));
    c.on("message", boom);
    let after = 0;
    c.on("message", () => after++); // later listeners still run
    c.subscribe("t/#", { handler: boom });
    drain(broker, 10);
    broker.send({ cmd: "publish", topic: "t/1", payload: "x", qos: 1, messageId: 3 });
    clock.flush();
    expect(log).toEqual(["connect sp=0", "error 317", "error 317"]);
    expect(causes.map((x) => x.message)).toEqual(["app bug", "app bug"]);
    expect(after).toBe(1);
    expect(broker.expectPacket("puback").messageId).toBe(3);
    expect(c.connected).toBe(true);
  });

  it("callbacks and listeners that throw (connect, publish, subscribe, end, close) are error 317; the client carries on", () => {
    const { sim, clock, make } = rig();
    const broker = new ScriptedBroker(sim);
    const c = make();
    const codes: number[] = [];
    c.on("error", (e: any) => codes.push(e.code));
    c.on("connect", boom);
    c.on("close", boom);
    broker.expectPacket("connect");
    broker.connack(0);
    clock.flush();
    expect(codes).toEqual([317]);
    c.publish("t", "a", { qos: 1 }, boom);
    c.publish("t", "b", { qos: 0 }, boom);
    c.subscribe("s", boom);
    const ps = drain(broker, 10);
    expect(codes).toEqual([317, 317]); // the QoS 0 callback ran when written
    const pub = ps.find((p) => p.cmd == "publish" && p.qos == 1)!, sub = ps.find((p) => p.cmd == "subscribe")!;
    broker.send({ cmd: "puback", messageId: pub.messageId });
    broker.send({ cmd: "suback", messageId: sub.messageId, granted: [0] });
    clock.flush();
    expect(codes).toEqual([317, 317, 317, 317]);
    c.publish("t", "x", { qos: 5 }, boom); // a failing call's callback too
    expect(codes).toEqual([317, 317, 317, 317, 317]);
    c.end(boom);
    clock.advance(1000);
    expect(codes).toEqual([317, 317, 317, 317, 317, 317, 317]); // close listener, end callback
  });

  it("an error listener that throws is not reported again (no loop) and escapes nothing", () => {
    const { broker, clock, c } = connected();
    let calls = 0;
    c.on("error", () => {
      calls++;
      throw new Error("in error listener");
    });
    c.on("message", boom);
    broker.send({ cmd: "publish", topic: "t", payload: "x", qos: 0 });
    clock.flush();
    expect(calls).toBe(1);
    expect(c.connected).toBe(true);
  });

  it("without any error listener, errors are never thrown", () => {
    const { sim, clock, make } = rig();
    const broker = new ScriptedBroker(sim);
    const c = make({ reconnectPeriod: 100 });
    c.on("message", boom);
    broker.expectPacket("connect");
    broker.connack(0);
    broker.send({ cmd: "publish", topic: "t", payload: "x", qos: 1, messageId: 1 });
    broker.send("00 00");
    clock.advance(1000);
    c.publish("a/#", "x");
    expect(c.stats.errors).toBe(3);
  });
});

describe.each(CHUNKS)("garbage from the network (chunkSize %s)", (_, chunkSize) => {
  it("random bytes after CONNACK: coded errors and reconnects, never an exception, never a stuck client", () => {
    const seed = Number(process.env.SEED) || 20240601;
    const rnd = prng(seed);
    const { broker, clock, c, sim } = connected({ reconnectPeriod: 100, reconnectMax: 200, keepalive: 5 }, { rxSize: 64 }, { chunkSize });
    const codes: number[] = [];
    c.on("error", (e: any) => codes.push(e.code));
    let connects = 1;
    c.on("connect", () => connects++);
    for (let round = 0; round < 60; round++) {
      const n = 1 + Math.floor(rnd() * 40);
      const bytes = Array.from({ length: n }, () => Math.floor(rnd() * 256));
      if (rnd() < 0.5) bytes[0] = [0x30, 0x32, 0x40, 0x90, 0xb0, 0xd0][Math.floor(rnd() * 6)]; // plausible headers
      if (c.connected) broker.send(bytes);
      clock.advance(300);
      for (let p = broker.nextPacket(); p; p = broker.nextPacket()) {
        if (p.cmd == "connect") broker.connack(0);
        if (p.cmd == "pingreq") broker.send({ cmd: "pingresp" });
      }
      clock.advance(300);
    }
    expect(codes.length, `seed ${seed}`).toBeGreaterThan(5);
    for (const code of codes) expect(code >= 201 && code <= 215 || code == 311 || code == 310, `code ${code}, seed ${seed}`).toBe(true);
    expect(connects).toBeGreaterThan(5);
    // and it still works
    clock.advance(1000);
    for (let p = broker.nextPacket(); p; p = broker.nextPacket()) if (p.cmd == "connect") broker.connack(0);
    clock.flush();
    expect(c.connected).toBe(true);
    expect(sim.violations).toEqual([]);
  });
});

describe("a write that throws", () => {
  // On Espruino a socket write that throws means the board ran out of memory: 315.
  const CODE = MODE == "espruino" ? 315 : 312;

  it(`is error ${CODE} and a clean reconnect; the QoS 1 publish it was writing is sent on the next connection`, () => {
    const { broker, clock, c, log, sim } = connected({ reconnectPeriod: 100 });
    const got: any[] = [];
    sim.throwOnWrite(1);
    c.publish("t", "precious", { qos: 1 }, (e: any) => got.push(e ? e.code : "ok"));
    clock.flush();
    expect(log).toEqual(["connect sp=0", `error ${CODE}`, "close", "offline"]);
    broker.expectPacket("connect");
    broker.connack(0);
    const p = broker.expectPacket("publish");
    expect(String(p.payload)).toBe("precious");
    broker.send({ cmd: "puback", messageId: p.messageId });
    clock.flush();
    expect(got).toEqual(["ok"]);
  });

  it(`while writing CONNECT is error ${CODE} and another attempt`, () => {
    const { sim, clock, make } = rig();
    const broker = new ScriptedBroker(sim);
    sim.throwOnWrite(1);
    const c = make({ reconnectPeriod: 100 });
    const log = record(c);
    broker.expectPacket("connect", 5000);
    broker.connack(0);
    clock.flush();
    expect(log).toEqual([`error ${CODE}`, "close", "reconnect", "connect sp=0"]);
  });
});

describe.runIf(MODE == "espruino")("Espruino out of memory (socket.write throws, E.toString or substring returns undefined)", () => {
  it("while writing a QoS 1 publish: error 315, clean reconnect, the publish is not lost", () => {
    const { broker, clock, c, log, sim } = connected({ reconnectPeriod: 100 });
    const got: any[] = [];
    sim.throwOnWrite(1);
    c.publish("t", "precious", { qos: 1 }, (e: any) => got.push(e ? e.code : "ok"));
    clock.flush();
    expect(log).toEqual(["connect sp=0", "error 315", "close", "offline"]);
    expect(sim.connections[0].state).toBe("closed");
    broker.expectPacket("connect");
    broker.connack(0);
    const p = broker.expectPacket("publish");
    expect(String(p.payload)).toBe("precious");
    broker.send({ cmd: "puback", messageId: p.messageId });
    clock.flush();
    expect(got).toEqual(["ok"]);
    expect(sim.violations).toEqual([]);
  });

  it("while making a string of a Uint8Array payload (E.toString): the publish fails with 315, nothing is queued, the connection stays", () => {
    const { broker, clock, c, log, sim } = connected({ reconnectPeriod: 100 });
    const got: any[] = [];
    sim.E.failNext(1);
    c.publish("t", new Uint8Array([1, 2, 3]), { qos: 1 }, (e: any) => got.push(e ? e.code : "ok"));
    c.publish("t", new Uint8Array([4, 5]), { qos: 1 }, (e: any) => got.push(e ? e.code : "ok"));
    clock.flush();
    expect(got).toEqual([315]);
    const p = broker.expectPacket("publish");
    expect([...p.payload]).toEqual([4, 5]);
    broker.send({ cmd: "puback", messageId: p.messageId });
    clock.flush();
    expect(got).toEqual([315, "ok"]);
    expect(log).toEqual(["connect sp=0"]);
    expect(c.connected).toBe(true);
  });

  it("while receiving a QoS 1 message: error 315, no PUBACK, reconnect; the broker's redelivery is delivered and acked", () => {
    const { broker, clock, c, log, sim } = connected({ clean: false, reconnectPeriod: 100 });
    const got: string[] = [];
    c.on("message", (t: string, p: any) => got.push(t + "=" + p));
    const restore = failNextPublishReads(1);
    try {
      broker.send({ cmd: "publish", topic: "in", payload: "m", qos: 1, messageId: 11 });
      clock.flush();
    } finally {
      restore();
    }
    expect(got).toEqual([]);
    expect(log).toEqual(["connect sp=0", "error 315", "close", "offline"]);
    expect(drain(broker, 0)).toEqual([]);
    broker.expectPacket("connect");
    broker.connack(0, true);
    broker.send({ cmd: "publish", topic: "in", payload: "m", qos: 1, messageId: 11, dup: true });
    clock.flush();
    expect(got).toEqual(["in=m"]);
    expect(broker.expectPacket("puback").messageId).toBe(11);
  });

  it("while writing a PUBACK: error 315 after the delivery, reconnect; the redelivery is acked", () => {
    const { broker, clock, c, log, sim } = connected({ clean: false, reconnectPeriod: 100 });
    const got: string[] = [];
    c.on("message", (t: string, p: any) => got.push(t + "=" + p));
    sim.throwOnWrite(1); // the PUBACK
    broker.send({ cmd: "publish", topic: "in", payload: "m", qos: 1, messageId: 12 });
    clock.flush();
    expect(got).toEqual(["in=m"]);
    expect(log).toEqual(["connect sp=0", "error 315", "close", "offline"]);
    broker.expectPacket("connect");
    broker.connack(0, true);
    broker.send({ cmd: "publish", topic: "in", payload: "m", qos: 1, messageId: 12, dup: true });
    clock.flush();
    expect(got).toEqual(["in=m", "in=m"]); // at least once
    expect(broker.expectPacket("puback").messageId).toBe(12);
  });

  it("repeated failures over many messages lose no QoS 1 publish and fire every callback once", () => {
    const seed = Number(process.env.SEED) || 5;
    const rnd = prng(seed);
    const { broker, clock, c, sim } = connected({ clean: false, reconnectPeriod: 100, reconnectMax: 200 }, { inflight: 2, queueSize: 8 });
    const results = new Map<number, any[]>();
    const seen = new Set<string>();
    let next = 0;
    for (let step = 0; step < 400 && (next < 100 || [...results.values()].some((r) => !r.length)); step++) {
      if (next < 100) {
        const i = next;
        let full = false;
        c.publish("t", "m" + i, { qos: 1 }, (e: any) => {
          if (e && e.code == 107) full = true;
          else results.set(i, [...(results.get(i) || []), e ? e.code : "ok"]);
        });
        if (!full) {
          results.set(i, results.get(i) || []);
          next++;
        }
      }
      if (rnd() < 0.1) sim.throwOnWrite(1);
      clock.advance(30);
      for (let p = broker.nextPacket(); p; p = broker.nextPacket()) {
        if (p.cmd == "connect") broker.connack(0, true);
        if (p.cmd == "publish") {
          seen.add(String(p.payload));
          broker.send({ cmd: "puback", messageId: p.messageId });
        }
      }
    }
    expect(next).toBe(100);
    for (let i = 0; i < 100; i++) {
      expect(results.get(i), `publish ${i}, seed ${seed}`).toEqual(["ok"]);
      expect(seen.has("m" + i)).toBe(true);
    }
    expect(c.stats.errors).toBeGreaterThan(3);
    expect(sim.violations).toEqual([]);
  });
});
