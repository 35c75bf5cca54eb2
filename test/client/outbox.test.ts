// The outbox: packet ids, the in-flight window, queueing while offline, resending in a resumed
// session and renumbering in a new one, publishes that do not fit, back-pressure, and callbacks
// that fire exactly once.
import { describe, it, expect } from "vitest";
import { MODE, connected, drain, lines, prng, rig, tapWrites } from "./helpers";
import { ScriptedBroker } from "../sim/broker";

/** Callback bookkeeping: every callback must fire exactly once. */
function calls() {
  const fired = new Map<string, (number | null)[]>();
  return {
    cb(name: string) {
      return (e: any) => {
        const l = fired.get(name) || [];
        l.push(e ? e.code : null);
        fired.set(name, l);
      };
    },
    of(name: string) {
      return fired.get(name) || [];
    },
    /** Every named callback fired exactly once; returns name -> result. */
    once(names: string[]) {
      const out: Record<string, number | null> = {};
      for (const n of names) {
        expect(fired.get(n), `callback ${n}`).toHaveLength(1);
        out[n] = fired.get(n)![0];
      }
      return out;
    },
  };
}

describe("packet ids and acknowledgements", () => {
  it("gives every QoS 1 publish a non-zero id not in use, and keeps it until the PUBACK with that id [MQTT-2.3.1-1, MQTT-2.3.1-2, MQTT-4.3.2-1]", () => {
    const { broker, clock, c } = connected({}, { inflight: 4 });
    const k = calls();
    for (let i = 0; i < 4; i++) c.publish("t", "m" + i, { qos: 1 }, k.cb("p" + i));
    const sent = drain(broker, 100);
    const ids = sent.map((p) => p.messageId);
    expect(sent.every((p) => p.qos == 1 && !p.dup)).toBe(true);
    expect(ids.every((id) => id > 0 && id <= 65535)).toBe(true);
    expect(new Set(ids).size).toBe(4);
    // Acks out of order: each completes the publish with its id, and only that one.
    broker.send({ cmd: "puback", messageId: ids[2] });
    clock.flush();
    expect([k.of("p0"), k.of("p1"), k.of("p2"), k.of("p3")]).toEqual([[], [], [null], []]);
    broker.send({ cmd: "puback", messageId: ids[0] });
    broker.send({ cmd: "puback", messageId: ids[3] });
    broker.send({ cmd: "puback", messageId: ids[1] });
    clock.flush();
    expect(k.once(["p0", "p1", "p2", "p3"])).toEqual({ p0: null, p1: null, p2: null, p3: null });
    expect(c.stats.acked).toBe(4);
    // A second PUBACK for an id no longer in flight completes nothing.
    broker.send({ cmd: "puback", messageId: ids[1] });
    clock.flush();
    expect(k.of("p1")).toHaveLength(1);
    expect(c.stats.ignored).toBe(1);
  });

  it("after wrapping past 65535, skips ids still in use by publishes and subscriptions", () => {
    const { broker, clock, c } = connected({}, { inflight: 4 });
    c.publish("t", "held", { qos: 1 }); // id 1, never acknowledged
    c.subscribe("s", { qos: 1 }); // id 2, SUBACK never comes
    (c as any)._pid = 65533; // fast-forward the id counter (an internal field)
    c.publish("t", "a", { qos: 1 });
    c.publish("t", "b", { qos: 1 });
    c.publish("t", "c", { qos: 1 });
    const ids = drain(broker, 100).filter((p) => p.cmd == "publish").map((p) => p.messageId);
    expect(ids).toEqual([1, 65534, 65535, 3]);
    clock.flush();
  });

  it("in each later round of ids, skips the ids then in use and uses again those freed since", () => {
    const { broker, clock, c } = connected({}, { inflight: 8, queueSize: 8 });
    c.publish("t", "held", { qos: 1 }); // id 1, never acknowledged
    c.publish("t", "acked later", { qos: 1 }); // id 2
    (c as any)._pid = 65534;
    c.publish("t", "a", { qos: 1 }); // 65535
    c.publish("t", "b", { qos: 1 }); // round 2: 1 and 2 in use, so 3
    let sent = drain(broker, 100).filter((p) => p.cmd == "publish");
    expect(sent.map((p) => p.messageId)).toEqual([1, 2, 65535, 3]);
    for (const id of [2, 65535, 3]) broker.send({ cmd: "puback", messageId: id });
    clock.flush();
    (c as any)._pid = 65535; // the counter has come round again
    c.publish("t", "c", { qos: 1 }); // round 3: only 1 still in use, so 2
    c.publish("t", "d", { qos: 1 }); // 3
    sent = drain(broker, 100).filter((p) => p.cmd == "publish");
    expect(sent.map((p) => p.messageId)).toEqual([2, 3]);
  });

  it.runIf(MODE == "node")("still skips an id in use later in the round, after the idle outbox was checked (node: a growing outbox)", async () => {
    const { broker, clock, c } = connected({}, { inflight: 16, queueSize: 16, outboxSize: 256, outboxMax: 4096 } as any);
    const ids = () => drain(broker, 100).filter((p) => p.cmd == "publish").map((p) => p.messageId);
    for (let i = 0; i < 5; i++) c.publish("t", "m" + i, { qos: 1 });
    // The first buffer of a growing outbox is written from on the next turn.
    await new Promise((r) => setImmediate(r));
    expect(ids()).toEqual([1, 2, 3, 4, 5]);
    for (const id of [2, 3, 4]) broker.send({ cmd: "puback", messageId: id });
    clock.flush();
    (c as any)._pid = 65535;
    c.publish("t", "a", { qos: 1 }); // round 2: 1 and 5 in use
    expect(ids()).toEqual([2]);
    clock.advance(5000); // the node target's idleness check runs meanwhile
    for (let i = 0; i < 3; i++) c.publish("t", "b" + i, { qos: 1 }); // 3, 4, then 6: 5 still waits
    expect(ids()).toEqual([3, 4, 6]);
  });

  it("never reuses the id of a publish that waits for its PUBACK across a reconnect [MQTT-2.3.1-3]", () => {
    const { broker, clock, c, sim } = connected({ clean: false }, { inflight: 1 });
    c.publish("t", "first", { qos: 1 });
    const first = drain(broker, 100)[0].messageId;
    sim.cut();
    broker.expectPacket("connect");
    broker.connack(0, true);
    clock.flush();
    c.publish("t", "second", { qos: 1 });
    const again = broker.expectPacket("publish");
    expect(again).toMatchObject({ messageId: first, dup: true });
    broker.send({ cmd: "puback", messageId: first });
    const second = broker.expectPacket("publish");
    expect(second.messageId).not.toBe(first);
  });
});

describe("the in-flight window", () => {
  it("keeps at most `inflight` QoS 1 publishes unacknowledged on the wire; the rest wait in order", () => {
    const { broker, clock, c } = connected({}, { inflight: 2, queueSize: 8 });
    const k = calls();
    for (let i = 0; i < 6; i++) c.publish("t", "m" + i, { qos: 1 }, k.cb("p" + i));
    let wire = drain(broker, 500);
    expect(wire.map((p) => String(p.payload))).toEqual(["m0", "m1"]);
    const order: string[] = wire.map((p) => String(p.payload));
    while (order.length < 6 || wire.length) {
      broker.send({ cmd: "puback", messageId: wire[0].messageId });
      clock.advance(10);
      const more = drain(broker, 100);
      order.push(...more.map((p) => String(p.payload)));
      wire = wire.slice(1).concat(more);
      expect(wire.length).toBeLessThanOrEqual(2);
      if (!wire.length) break;
    }
    expect(order).toEqual(["m0", "m1", "m2", "m3", "m4", "m5"]);
    expect(Object.values(k.once(["p0", "p1", "p2", "p3", "p4", "p5"]))).toEqual([null, null, null, null, null, null]);
  });

  it("keeps publish order across QoS: a QoS 0 publish behind waiting QoS 1 ones waits too", () => {
    const { broker, clock, c } = connected({}, { inflight: 1 });
    c.publish("t", "a", { qos: 1 });
    c.publish("t", "b", { qos: 1 });
    c.publish("t", "c", { qos: 0 });
    let wire = drain(broker, 100);
    expect(wire.map((p) => String(p.payload))).toEqual(["a"]);
    broker.send({ cmd: "puback", messageId: wire[0].messageId });
    wire = drain(broker, 100);
    // QoS 0 is not limited by the window, but it does not overtake the QoS 1 publish before it
    expect(wire.map((p) => String(p.payload))).toEqual(["b", "c"]);
    clock.flush();
  });
});

describe("offline", () => {
  it("queues publishes made before the first connection, QoS 0 included, and sends them in order after CONNACK", () => {
    const { sim, clock, make } = rig();
    const broker = new ScriptedBroker(sim);
    const c = make({}, { inflight: 8 });
    const k = calls();
    c.publish("t", "a", { qos: 0 }, k.cb("a"));
    c.publish("t", "b", { qos: 1 }, k.cb("b"));
    c.publish("t", "c", { qos: 0 }, k.cb("c"));
    broker.expectPacket("connect");
    clock.advance(1000);
    expect(k.of("a")).toEqual([]); // a QoS 0 callback fires when it is written, not before
    broker.connack(0);
    const wire = drain(broker, 100);
    expect(lines(wire)).toEqual(["PUBLISH q0 t=t (1 B)", "PUBLISH q1 id=1 t=t (1 B)", "PUBLISH q0 t=t (1 B)"]);
    expect(wire.map((p) => String(p.payload))).toEqual(["a", "b", "c"]);
    expect(k.once(["a", "c"])).toEqual({ a: null, c: null });
    expect(k.of("b")).toEqual([]);
  });

  it("queues publishes made while the link is down, while room remains; then 107 at once", () => {
    const { broker, clock, c, sim } = connected({ reconnectPeriod: 5000 }, { queueSize: 4, inflight: 4 });
    sim.cut();
    clock.flush();
    const k = calls();
    for (let i = 0; i < 5; i++) c.publish("t", "m" + i, { qos: i % 2 }, k.cb("p" + i));
    expect(k.of("p4")).toEqual([107]);
    expect(k.of("p0")).toEqual([]);
    broker.expectPacket("connect", 10000);
    broker.connack(0);
    const wire = drain(broker, 100);
    expect(wire.map((p) => String(p.payload))).toEqual(["m0", "m1", "m2", "m3"]);
    for (const p of wire) if (p.qos) broker.send({ cmd: "puback", messageId: p.messageId });
    clock.flush();
    expect(k.once(["p0", "p1", "p2", "p3", "p4"])).toEqual({ p0: null, p1: null, p2: null, p3: null, p4: 107 });
  });
});

describe("resending after a reconnect", () => {
  /** Three QoS 1 publishes with inflight 2: two on the wire unacknowledged, one waiting; then a cut. */
  function interrupted(opts: any = {}) {
    const r = connected({ clean: false, reconnectPeriod: 1000, ...opts }, { inflight: 2 });
    const k = calls();
    for (let i = 0; i < 3; i++) r.c.publish("t", "m" + i, { qos: 1 }, k.cb("p" + i));
    const before = drain(r.broker, 100);
    expect(before.map((p) => p.messageId)).toEqual([1, 2]);
    r.sim.cut();
    r.clock.flush();
    r.c.publish("t", "m3", { qos: 1 }, k.cb("p3")); // made while offline
    r.broker.expectPacket("connect", 5000);
    return { ...r, k, before };
  }

  it("in a resumed session (session present 1), resends the unacknowledged ones first, in order, DUP=1, same ids [MQTT-4.4.0-1, MQTT-4.6.0-1, MQTT-3.3.1-1]", () => {
    const { broker, clock, c, k } = interrupted();
    broker.connack(0, true);
    let wire = drain(broker, 100);
    expect(lines(wire)).toEqual(["PUBLISH q1 id=1 dup t=t (2 B)", "PUBLISH q1 id=2 dup t=t (2 B)"]);
    expect(wire.map((p) => String(p.payload))).toEqual(["m0", "m1"]);
    expect(c.stats.resent).toBe(2);
    broker.send({ cmd: "puback", messageId: 1 });
    broker.send({ cmd: "puback", messageId: 2 });
    wire = drain(broker, 100);
    // the ones never sent go out as first transmissions, after the resends
    expect(lines(wire)).toEqual(["PUBLISH q1 id=3 t=t (2 B)", "PUBLISH q1 id=4 t=t (2 B)"]);
    broker.send({ cmd: "puback", messageId: 3 });
    broker.send({ cmd: "puback", messageId: 4 });
    clock.flush();
    expect(k.once(["p0", "p1", "p2", "p3"])).toEqual({ p0: null, p1: null, p2: null, p3: null });
  });

  it("in a new session (session present 0), sends them again as new publishes: new ids, DUP=0 [MQTT-3.1.2-6]", () => {
    const { broker, clock, c, k, before } = interrupted();
    broker.connack(0, false);
    const wire = drain(broker, 100);
    expect(wire.map((p) => String(p.payload))).toEqual(["m0", "m1"]);
    expect(wire.every((p) => !p.dup && p.qos == 1)).toBe(true);
    const old = before.map((p) => p.messageId);
    for (const p of wire) expect(old).not.toContain(p.messageId);
    expect(c.stats.resent).toBe(0);
    // an ack for an id of the old session completes nothing
    broker.send({ cmd: "puback", messageId: 1 });
    clock.flush();
    expect(k.of("p0")).toEqual([]);
    for (const p of wire) broker.send({ cmd: "puback", messageId: p.messageId });
    const rest = drain(broker, 100);
    expect(rest.map((p) => String(p.payload))).toEqual(["m2", "m3"]);
    for (const p of rest) broker.send({ cmd: "puback", messageId: p.messageId });
    clock.flush();
    expect(k.once(["p0", "p1", "p2", "p3"])).toEqual({ p0: null, p1: null, p2: null, p3: null });
  });

  it("a clean session (clean:true) is always a new session: renumbered, DUP=0", () => {
    const { broker } = interrupted({ clean: true });
    broker.connack(0, false);
    const wire = drain(broker, 100);
    expect(wire.map((p) => [String(p.payload), p.dup])).toEqual([["m0", false], ["m1", false]]);
    expect(wire.map((p) => p.messageId)).not.toContain(1);
  });

  it("a resend that never got out before the next drop goes as a new publish (DUP=0) when that session is new [MQTT-3.1.2-6]", () => {
    const { broker, clock, c, sim } = connected({ clean: false, reconnectPeriod: 100 }, { inflight: 2 }, { highWaterMark: 1 });
    const k = calls();
    c.publish("t", "a", { qos: 1 }, k.cb("a"));
    c.publish("t", "b", { qos: 1 }, k.cb("b"));
    expect(drain(broker, 100).map((p) => p.messageId)).toEqual([1, 2]);
    sim.cut();
    broker.expectPacket("connect");
    sim.slowWrites(50); // the socket takes the first resend late; the second waits for it
    broker.connack(0, true);
    clock.flush();
    sim.cut(); // before either resend left
    sim.slowWrites(0);
    broker.expectPacket("connect");
    broker.connack(0, false); // and the broker lost the session meanwhile
    const wire = drain(broker, 100);
    expect(wire.map((p) => [String(p.payload), p.dup])).toEqual([["a", false], ["b", false]]);
    expect(wire.map((p) => p.messageId)).not.toContain(1);
    expect(wire.map((p) => p.messageId)).not.toContain(2);
    for (const p of wire) broker.send({ cmd: "puback", messageId: p.messageId });
    clock.flush();
    expect(k.once(["a", "b"])).toEqual({ a: null, b: null });
  });

  it("resends with DUP=1 again after a second drop before the PUBACK", () => {
    const { broker, clock, sim } = interrupted();
    broker.connack(0, true);
    drain(broker, 100);
    sim.cut();
    broker.expectPacket("connect", 5000);
    broker.connack(0, true);
    expect(lines(drain(broker, 100))).toEqual(["PUBLISH q1 id=1 dup t=t (2 B)", "PUBLISH q1 id=2 dup t=t (2 B)"]);
    clock.flush();
  });
});

describe("publishes that do not fit", () => {
  it("fails a publish at once with 107 when the outbox has no entry left, and keeps every queued one", () => {
    const { broker, clock, c } = connected({}, { queueSize: 3, inflight: 1 });
    const k = calls();
    for (let i = 0; i < 4; i++) c.publish("t", "m" + i, { qos: 1 }, k.cb("p" + i));
    expect(k.of("p3")).toEqual([107]);
    const errs: number[] = [];
    c.on("error", (e: any) => errs.push(e.code));
    c.publish("t", "no callback", { qos: 1 });
    expect(errs).toEqual([107]);
    for (let i = 0; i < 3; i++) {
      const p = broker.expectPacket("publish");
      expect(String(p.payload)).toBe("m" + i);
      broker.send({ cmd: "puback", messageId: p.messageId });
    }
    clock.flush();
    expect(k.once(["p0", "p1", "p2", "p3"])).toEqual({ p0: null, p1: null, p2: null, p3: 107 });
  });

  it("fails with 107 when the outbox has no bytes left (and takes one that fits exactly), with 104 when larger than the whole outbox", () => {
    const { broker, clock, c } = connected({}, { outboxSize: 100, queueSize: 8, inflight: 8 });
    const k = calls();
    // 2 + 3 ("t/x") + 2 (id) + 2 header bytes -> 44 bytes on the wire, 45 in the outbox (its state byte)
    const p40 = "x".repeat(40 - 5);
    c.publish("t/x", p40, { qos: 1 }, k.cb("a"));
    c.publish("t/x", p40, { qos: 1 }, k.cb("b"));
    c.publish("t/x", p40, { qos: 1 }, k.cb("c"));
    expect(k.of("c")).toEqual([107]);
    c.publish("t/x", "y".repeat(101), { qos: 0 }, k.cb("big"));
    expect(k.of("big")).toEqual([104]);
    const wire = drain(broker, 100);
    expect(wire).toHaveLength(2);
    broker.send({ cmd: "puback", messageId: wire[0].messageId });
    clock.flush();
    // 55 bytes free now: the entry left moves to the front when the tail has no room.
    c.publish("t/x", p40 + "z".repeat(11), { qos: 1 }, k.cb("e")); // one byte more than the free space
    expect(k.of("e")).toEqual([107]);
    c.publish("t/x", p40 + "z".repeat(10), { qos: 1 }, k.cb("d")); // exactly the free space
    const more = drain(broker, 100);
    expect(more.map((p) => String(p.payload))).toEqual([p40 + "z".repeat(10)]);
    broker.send({ cmd: "puback", messageId: wire[1].messageId });
    broker.send({ cmd: "puback", messageId: more[0].messageId });
    clock.flush();
    expect(k.once(["a", "b", "c", "big", "d", "e"])).toEqual({ a: null, b: null, c: 107, big: 104, d: null, e: 107 });
  });

  it("keeps every byte of every publish intact through the ring, whatever the sizes and the order of acks", () => {
    const seed = Number(process.env.SEED) || 7;
    const rnd = prng(seed);
    const { broker, clock, c } = connected({}, { outboxSize: 300, queueSize: 6, inflight: 3 });
    const sent = new Map<number, string>();
    let accepted = 0, refused = 0;
    const done: string[] = [];
    const wire: any[] = [];
    for (let round = 0; round < 400; round++) {
      const n = Math.floor(rnd() * 120);
      const payload = Array.from({ length: n }, (_, i) => String.fromCharCode(97 + ((round + i) % 26))).join("");
      const name = "r" + round;
      let failed = false;
      c.publish("ring/" + round, payload, { qos: rnd() < 0.8 ? 1 : 0 }, (e: any) => {
        if (e) {
          expect(e.code).toBe(107);
          failed = true;
        } else done.push(name);
      });
      if (failed) refused++;
      else {
        accepted++;
        sent.set(round, payload);
      }
      wire.push(...drain(broker, 10));
      // ack a random one of those on the wire
      const unacked = wire.filter((p) => p.qos == 1 && !p.acked);
      if (unacked.length && rnd() < 0.7) {
        const p = unacked[Math.floor(rnd() * unacked.length)];
        p.acked = true;
        broker.send({ cmd: "puback", messageId: p.messageId });
        clock.flush();
      }
    }
    for (;;) {
      wire.push(...drain(broker, 10));
      const unacked = wire.filter((p) => p.qos == 1 && !p.acked);
      if (!unacked.length) break;
      for (const p of unacked) {
        p.acked = true;
        broker.send({ cmd: "puback", messageId: p.messageId });
      }
      clock.flush();
    }
    expect(refused).toBeGreaterThan(10);
    expect(wire).toHaveLength(accepted);
    for (const p of wire) expect(String(p.payload), `seed ${seed} ${p.topic}`).toBe(sent.get(+p.topic.slice(5)));
    expect(wire.map((p) => +p.topic.slice(5))).toEqual([...sent.keys()]);
    expect(done).toHaveLength(accepted);
  });
});

describe("back-pressure", () => {
  it("waits for the socket to take each write before the next publish (drain), and keeps the rest in the outbox", () => {
    // Node: write() is false once highWaterMark bytes wait; Espruino: write() is always false.
    const { broker, clock, c, sim } = connected({}, { queueSize: 8, inflight: 8 }, { highWaterMark: 100 });
    sim.slowWrites(300);
    const waiting: number[] = [];
    tapWrites(sim, () => {});
    const conn = sim.connections[0];
    const realWrite = (conn.socket as any).write;
    (conn.socket as any).write = function (x: any, ...rest: any[]) {
      waiting.push(conn._sendLength());
      return realWrite.call(this, x, ...rest);
    };
    const k = calls();
    const payload = "p".repeat(60);
    for (let i = 0; i < 6; i++) c.publish("t", payload, { qos: 0 }, k.cb("p" + i));
    // Only what the socket accepted before saying "wait" has been handed over; the rest is still ours.
    expect(waiting.length).toBe(MODE == "espruino" ? 1 : 2);
    expect(k.of("p5")).toEqual([]);
    clock.advance(300);
    expect(waiting.length).toBe(MODE == "espruino" ? 2 : 4);
    clock.advance(3000);
    expect(drain(broker).length).toBe(6);
    // Each publish was written only when the socket had drained (Espruino) or was under its mark (Node).
    for (const w of waiting) expect(w).toBeLessThan(MODE == "espruino" ? 1 : 100);
    expect(Object.values(k.once(["p0", "p1", "p2", "p3", "p4", "p5"]))).toEqual([null, null, null, null, null, null]);
  });

  it("publishes the socket has not taken survive a drop and go out after the reconnect", () => {
    const { broker, clock, c, sim } = connected({ reconnectPeriod: 1000 }, { queueSize: 8, inflight: 8 }, { highWaterMark: 50 });
    sim.slowWrites(1_000_000); // the socket takes nothing
    const k = calls();
    for (let i = 0; i < 4; i++) c.publish("t", "m" + i + "-".repeat(50), { qos: 0 }, k.cb("p" + i));
    clock.advance(100);
    expect(drain(broker)).toEqual([]);
    const handedOver = ["p0", "p1", "p2", "p3"].filter((n) => k.of(n).length).length;
    expect(handedOver).toBe(1); // the first write filled the socket; the others wait in the outbox
    sim.slowWrites(0);
    sim.cut();
    broker.expectPacket("connect", 5000);
    broker.connack(0);
    const wire = drain(broker, 100);
    expect(wire.map((p) => String(p.payload).slice(0, 2))).toEqual(["m1", "m2", "m3"]);
    expect(Object.values(k.once(["p0", "p1", "p2", "p3"]))).toEqual([null, null, null, null]);
  });

  it("a QoS 1 publish that was handed to a socket which then dropped is resent", () => {
    const { broker, clock, c, sim } = connected({ clean: false, reconnectPeriod: 1000 }, { inflight: 4 });
    sim.slowWrites(1_000_000);
    const k = calls();
    c.publish("t", "q1", { qos: 1 }, k.cb("a"));
    clock.advance(100);
    sim.slowWrites(0);
    sim.cut();
    broker.expectPacket("connect", 5000);
    broker.connack(0, true);
    const p = broker.expectPacket("publish");
    expect(p).toMatchObject({ messageId: 1, dup: true, qos: 1 });
    broker.send({ cmd: "puback", messageId: 1 });
    clock.flush();
    expect(k.once(["a"])).toEqual({ a: null });
  });
});

describe("callbacks", () => {
  it("every publish callback fires exactly once through drops, resends, refusals and end()", () => {
    const seed = Number(process.env.SEED) || 99;
    const rnd = prng(seed);
    const { broker, clock, c, sim } = connected({ clean: false, reconnectPeriod: 200, reconnectMax: 400 }, { queueSize: 6, inflight: 2 });
    const count = new Map<number, number>();
    const result = new Map<number, number | null>();
    let n = 0;
    for (let step = 0; step < 300; step++) {
      const i = n++;
      c.publish("t", "m" + i, { qos: rnd() < 0.7 ? 1 : 0 }, (e: any) => {
        count.set(i, (count.get(i) || 0) + 1);
        result.set(i, e ? e.code : null);
      });
      clock.advance(20);
      for (let p = broker.nextPacket(); p; p = broker.nextPacket()) {
        if (p.cmd == "connect") broker.connack(0, true);
        if (p.cmd == "publish" && p.qos == 1 && rnd() < 0.8) broker.send({ cmd: "puback", messageId: p.messageId });
      }
      if (rnd() < 0.05) sim.cut();
    }
    c.end(true);
    clock.advance(100);
    expect([...count.keys()].length, `seed ${seed}`).toBe(n);
    for (const [i, k] of count) expect(k, `publish ${i}, seed ${seed}`).toBe(1);
    const codes = new Set(result.values());
    for (const code of codes) expect([null, 107, 108]).toContain(code);
    expect(codes.has(null)).toBe(true);
  });
});

describe("stats", () => {
  it("counts sent, acked and resent publishes", () => {
    const { broker, clock, c, sim } = connected({ clean: false, reconnectPeriod: 100 }, { inflight: 2 });
    c.publish("t", "a", { qos: 1 });
    c.publish("t", "b", { qos: 0 });
    drain(broker, 100);
    sim.cut();
    broker.expectPacket("connect");
    broker.connack(0, true);
    const p = broker.expectPacket("publish");
    broker.send({ cmd: "puback", messageId: p.messageId });
    clock.flush();
    expect(c.stats).toMatchObject({ sent: 3, acked: 1, resent: 1, reconnects: 1 });
  });
});

describe("publishing from a QoS 0 completion callback", () => {
  it("finds the slot of the message just written free: a chain of publishes from callbacks never stalls on 107", () => {
    const { sim, make } = rig();
    const broker = new ScriptedBroker(sim);
    const c = make({}, { queueSize: 8 });
    let n = 0;
    const refused: number[] = [];
    function next() {
      n++;
      c.publish("t", "x", { qos: 0 }, (e: any) => {
        if (e) refused.push(e.code);
        else if (n < 40) next();
      });
    }
    for (let i = 0; i < 8; i++) next(); // queued offline: the outbox is full
    broker.expectPacket("connect");
    broker.connack(0, false);
    const got = drain(broker, 500).filter((p) => p.cmd == "publish");
    expect(refused).toEqual([]);
    expect(got.length).toBe(40);
  });
});
