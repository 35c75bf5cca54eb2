// Subscriptions: SUBACK/UNSUBACK matched by id, refused filters, per-filter handlers matching as
// the spec says, subscriptions made again when the broker lost the session, malformed SUBACKs.
import { describe, it, expect } from "vitest";
import { CHUNKS, connected, drain, lines, prng, rig, str, tapWrites } from "./helpers";
import { ScriptedBroker } from "../sim/broker";

describe("acks", () => {
  it("matches SUBACK and UNSUBACK to their requests by id, whatever the order they come in [MQTT-2.3.1-7]", () => {
    const { broker, clock, c } = connected();
    const got: string[] = [];
    c.subscribe("a", { qos: 0 }, (e: any, g: any) => got.push("sub a " + JSON.stringify(g)));
    c.subscribe(["b", "c"], { qos: 1 }, (e: any, g: any) => got.push("sub bc " + JSON.stringify(g)));
    c.unsubscribe("x", (e: any) => got.push("unsub x " + (e ? e.code : "ok")));
    const ps = drain(broker, 10);
    expect(lines(ps)).toEqual(["SUBSCRIBE id=1 a:q0", "SUBSCRIBE id=2 b:q1 c:q1", "UNSUBSCRIBE id=3 x"]);
    broker.send({ cmd: "unsuback", messageId: 3 });
    broker.send({ cmd: "suback", messageId: 2, granted: [1, 0] });
    broker.send({ cmd: "suback", messageId: 1, granted: [0] });
    clock.flush();
    expect(got).toEqual([
      "unsub x ok",
      'sub bc [{"topic":"b","qos":1},{"topic":"c","qos":0}]',
      'sub a [{"topic":"a","qos":0}]',
    ]);
    expect(c.stats.ignored).toBe(0);
  });

  it("an UNSUBACK with the id of a pending SUBSCRIBE does not complete it (nor the reverse)", () => {
    const { broker, clock, c } = connected();
    const got: string[] = [];
    c.subscribe("a", (e: any) => got.push("sub " + (e ? e.code : "ok")));
    drain(broker, 10);
    broker.send({ cmd: "unsuback", messageId: 1 });
    clock.flush();
    expect(got).toEqual([]);
    expect(c.stats.ignored).toBe(1);
    broker.send({ cmd: "suback", messageId: 1, granted: [0] });
    clock.flush();
    expect(got).toEqual(["sub ok"]);
  });

  it("a refused filter (0x80) reaches the callback as error 316 for that filter, and the filter is dropped", () => {
    const { broker, clock, c, sim } = connected({ reconnectPeriod: 100 });
    const got: any[] = [];
    const handled: string[] = [];
    const h = (t: string) => handled.push(t);
    c.subscribe(["ok/#", "denied/#"], { qos: 1, handler: h }, (e: any, g: any) => got.push([e && e.code, g]));
    drain(broker, 10);
    broker.send({ cmd: "suback", messageId: 1, granted: [1, 0x80] });
    clock.flush();
    expect(got).toEqual([[316, [{ topic: "ok/#", qos: 1 }, { topic: "denied/#", qos: 128 }]]]);
    broker.send({ cmd: "publish", topic: "ok/1", payload: "x", qos: 0 });
    broker.send({ cmd: "publish", topic: "denied/1", payload: "x", qos: 0 });
    clock.flush();
    expect(handled).toEqual(["ok/1"]);
    // not made again after the broker lost the session
    sim.cut();
    broker.expectPacket("connect");
    broker.connack(0, false);
    expect(lines(drain(broker, 10))).toEqual(["SUBSCRIBE id=2 ok/#:q1"]);
  });

  it("without a callback a refused filter is reported through error (316)", () => {
    const { broker, clock, c, log } = connected();
    c.subscribe("denied");
    drain(broker, 10);
    broker.send({ cmd: "suback", messageId: 1, granted: [0x80] });
    clock.flush();
    expect(log).toEqual(["connect sp=0", "error 316"]);
    expect(c.connected).toBe(true);
  });

  it("a SUBACK with fewer codes than filters is a protocol violation (212): close and reconnect", () => {
    const { broker, clock, c, log } = connected({ reconnectPeriod: 100 });
    let called = 0;
    c.subscribe(["a", "b", "c"], { qos: 1 }, () => called++);
    drain(broker, 10);
    broker.send({ cmd: "suback", messageId: 1, granted: [1, 1] });
    clock.flush();
    expect(log).toEqual(["connect sp=0", "error 212", "close", "offline"]);
    expect(called).toBe(0);
    // the request is still pending and goes out again on the next connection
    broker.expectPacket("connect");
    broker.connack(0);
    expect(lines(drain(broker, 10))).toEqual(["SUBSCRIBE id=2 a:q1 b:q1 c:q1"]);
    broker.send({ cmd: "suback", messageId: 2, granted: [1, 1, 1] });
    clock.flush();
    expect(called).toBe(1);
  });

  it("a SUBACK with more codes than filters is a protocol violation too (212)", () => {
    const { broker, clock, c, log } = connected();
    c.subscribe("a");
    drain(broker, 10);
    broker.send({ cmd: "suback", messageId: 1, granted: [0, 0] });
    clock.flush();
    expect(log.slice(1, 2)).toEqual(["error 212"]);
    expect(c.connected).toBe(false);
  });
});

describe("filter handlers", () => {
  // [filter, topic, matches] from 4.7 of the spec, both ways.
  const table: [string, string, boolean][] = [
    ["sport/tennis/player1/#", "sport/tennis/player1", true],
    ["sport/tennis/player1/#", "sport/tennis/player1/ranking", true],
    ["sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true],
    ["sport/#", "sport", true], // '#' includes the parent level
    ["sport/#", "sports", false],
    ["#", "sport/tennis", true],
    ["#", "/", true],
    ["sport/tennis/+", "sport/tennis/player1", true],
    ["sport/tennis/+", "sport/tennis/player1/tournament", false],
    ["sport/+", "sport", false],
    ["sport/+", "sport/", true],
    ["+/+", "/finance", true],
    ["/+", "/finance", true],
    ["+", "/finance", false],
    ["+", "finance", true],
    ["+/tennis/#", "sport/tennis/x", true],
    ["+/tennis/#", "sport/tennis", true],
    ["a/+/c", "a//c", true],
    ["a/b", "a/B", false], // case-sensitive
    ["a/b", "a/b/", false],
    ["a/b ", "a/b", false],
    ["#", "$SYS/broker", false], // [MQTT-4.7.2-1]
    ["+/monitor/Clients", "$SYS/monitor/Clients", false],
    ["+", "$SYS", false],
    ["$SYS/#", "$SYS/monitor/Clients", true],
    ["$SYS/monitor/+", "$SYS/monitor/Clients", true],
    ["a/#", "a/$x", true], // '$' matters only at the first level
  ];

  it.each(CHUNKS)("match '+' and '#' exactly as the spec says (chunkSize %s) [MQTT-4.7.2-1]", (_, chunkSize) => {
    const { broker, clock, c } = connected({}, {}, { chunkSize });
    const hits: string[] = [];
    const filters = [...new Set(table.map((r) => r[0]))];
    for (const f of filters) c.subscribe(f, { qos: 0, handler: (t: string) => hits.push(f + " <- " + t) });
    drain(broker, 10);
    const topics = [...new Set(table.map((r) => r[1]))];
    for (const t of topics) broker.send({ cmd: "publish", topic: t, payload: "x", qos: 0 });
    clock.flush();
    for (const [f, t, m] of table) expect(hits.includes(f + " <- " + t), `${f} vs ${t}`).toBe(m);
  });

  it("match non-ASCII levels byte for byte", () => {
    const { broker, clock, c } = connected();
    const hits: string[] = [];
    c.subscribe(str("maison/+/température"), { handler: (t: string) => hits.push(t) });
    drain(broker, 10);
    broker.send({ cmd: "publish", topic: "maison/cuisine/température", payload: "x", qos: 0 });
    broker.send({ cmd: "publish", topic: "maison/cuisine/temperature", payload: "x", qos: 0 });
    clock.flush();
    expect(hits).toEqual([str("maison/cuisine/température")]);
  });

  it("subscribing again to a filter replaces its handler; unsubscribing removes it", () => {
    const { broker, clock, c } = connected();
    const hits: string[] = [];
    c.subscribe("a/#", { handler: () => hits.push("old") });
    c.subscribe("a/#", { handler: () => hits.push("new") });
    broker.send({ cmd: "publish", topic: "a/1", payload: "x", qos: 0 });
    clock.flush();
    c.unsubscribe("a/#");
    broker.send({ cmd: "publish", topic: "a/2", payload: "x", qos: 0 });
    clock.flush();
    expect(hits).toEqual(["new"]);
    expect(lines(drain(broker, 10))).toEqual(["SUBSCRIBE id=1 a/#:q0", "SUBSCRIBE id=2 a/#:q0", "UNSUBSCRIBE id=3 a/#"]);
  });
});

describe("after a reconnect", () => {
  function subscribed(opts: any = {}) {
    const r = connected({ reconnectPeriod: 100, ...opts });
    r.c.subscribe("a/#", { qos: 1 });
    r.c.subscribe(["b", "c/+"], { qos: 0 });
    r.c.subscribe("gone");
    r.c.unsubscribe("gone");
    for (const p of drain(r.broker, 10)) {
      if (p.cmd == "subscribe") r.broker.send({ cmd: "suback", messageId: p.messageId, granted: p.subscriptions.map((s: any) => s.qos) });
      else r.broker.send({ cmd: "unsuback", messageId: p.messageId });
    }
    r.clock.flush();
    r.sim.cut();
    r.broker.expectPacket("connect");
    return r;
  }

  it("makes every subscription again, at its QoS, when the broker lost the session (session present 0)", () => {
    const { broker } = subscribed();
    broker.connack(0, false);
    expect(lines(drain(broker, 10))).toEqual(["SUBSCRIBE id=5 a/#:q1 b:q0 c/+:q0"]);
  });

  it("does not subscribe again when the session was resumed (session present 1)", () => {
    const { broker } = subscribed({ clean: false });
    broker.connack(0, true);
    expect(drain(broker, 10)).toEqual([]);
  });

  it("sends a subscribe made while offline once, after CONNACK, and completes it by its SUBACK", () => {
    const { sim, clock, make } = rig();
    const broker = new ScriptedBroker(sim);
    const c = make();
    let granted: any;
    c.subscribe("early/#", { qos: 1 }, (e: any, g: any) => (granted = g));
    broker.expectPacket("connect");
    broker.connack(0, false);
    const ps = drain(broker, 10);
    expect(lines(ps)).toEqual(["SUBSCRIBE id=1 early/#:q1"]);
    broker.send({ cmd: "suback", messageId: 1, granted: [1] });
    clock.flush();
    expect(granted).toEqual([{ topic: "early/#", qos: 1 }]);
  });

  it("sends again, with a new id, a SUBSCRIBE whose SUBACK never came before the drop", () => {
    const { broker, clock, c, sim } = connected({ reconnectPeriod: 100 });
    const got: any[] = [];
    c.subscribe("x", { qos: 1 }, (e: any, g: any) => got.push(g));
    drain(broker, 10);
    sim.cut();
    broker.expectPacket("connect");
    broker.connack(0, false);
    const ps = drain(broker, 10);
    expect(lines(ps)).toEqual(["SUBSCRIBE id=2 x:q1"]);
    broker.send({ cmd: "suback", messageId: 1, granted: [1] }); // the old id: stray
    broker.send({ cmd: "suback", messageId: 2, granted: [1] });
    clock.flush();
    expect(got).toEqual([[{ topic: "x", qos: 1 }]]);
    expect(c.stats.ignored).toBe(1);
  });
});

describe("subscribe and unsubscribe callbacks", () => {
  it("each fires exactly once, through lost acks, drops, new and resumed sessions, refusals and end()", () => {
    for (const seed of process.env.SEED ? [Number(process.env.SEED)] : [1, 2, 3]) {
      const rnd = prng(seed);
      const { broker, clock, c, sim } = connected({ clean: false, reconnectPeriod: 100, reconnectMax: 200 });
      const count: number[] = [];
      const codes = new Set<number | null>();
      const cb = (i: number) => (e: any) => {
        count[i] = (count[i] || 0) + 1;
        codes.add(e ? e.code : null);
      };
      let n = 0;
      for (let step = 0; step < 200; step++) {
        const f = "f/" + Math.floor(rnd() * 5);
        count[n] = 0;
        if (rnd() < 0.6) c.subscribe(f, { qos: rnd() < 0.5 ? 1 : 0 }, cb(n++));
        else c.unsubscribe(f, cb(n++));
        clock.advance(20);
        for (let p = broker.nextPacket(); p; p = broker.nextPacket()) {
          if (p.cmd == "connect") broker.connack(0, rnd() < 0.5);
          else if (rnd() < 0.3) continue; // the ack never comes
          else if (p.cmd == "subscribe") broker.send({ cmd: "suback", messageId: p.messageId, granted: p.subscriptions.map((s: any) => (rnd() < 0.1 ? 0x80 : s.qos)) });
          else if (p.cmd == "unsubscribe") broker.send({ cmd: "unsuback", messageId: p.messageId });
        }
        if (rnd() < 0.05) sim.cut();
      }
      c.end(true);
      clock.advance(100);
      for (let i = 0; i < n; i++) expect(count[i], `request ${i}, seed ${seed}`).toBe(1);
      for (const code of codes) expect([null, 316, 108], `seed ${seed}`).toContain(code);
    }
  });
});

describe("subscribe then unsubscribe across a drop", () => {
  for (const clean of [true, false]) {
    it(`an unsubscribe made offline after a SUBSCRIBE still waiting for its SUBACK is sent after it (clean:${clean})`, () => {
      const { broker, clock, c, sim } = connected({ clean, reconnectPeriod: 100 });
      const got: string[] = [];
      c.subscribe("a", { qos: 1 }, (e: any) => got.push("sub " + (e ? e.code : "ok")));
      drain(broker, 10);
      sim.cut();
      clock.flush();
      c.unsubscribe("a", (e: any) => got.push("unsub " + (e ? e.code : "ok")));
      expect(got).toEqual([]);
      broker.expectPacket("connect");
      broker.connack(0, false);
      const ps = drain(broker, 10);
      // the broker must end up without the subscription: the SUBSCRIBE goes again, then the UNSUBSCRIBE
      expect(lines(ps)).toEqual(["SUBSCRIBE id=2 a:q1", "UNSUBSCRIBE id=3 a"]);
      broker.send({ cmd: "suback", messageId: 2, granted: [1] });
      broker.send({ cmd: "unsuback", messageId: 3 });
      clock.flush();
      expect(got).toEqual(["sub ok", "unsub ok"]);
    });
  }

  it("an unsubscribe made offline in a clean session, with nothing pending for it, completes at once and sends nothing", () => {
    const { broker, clock, c, sim } = connected({ reconnectPeriod: 100 });
    c.subscribe("a", { qos: 1 });
    const p = drain(broker, 10)[0];
    broker.send({ cmd: "suback", messageId: p.messageId, granted: [1] });
    clock.flush();
    sim.cut();
    clock.flush();
    let done = 0;
    c.unsubscribe("a", () => done++);
    expect(done).toBe(1);
    broker.expectPacket("connect");
    broker.connack(0, false);
    expect(drain(broker, 10)).toEqual([]);
  });
});

describe("unsubscribes dropped in a new session (nothing to undo at the broker)", () => {
  /** Subscribed to a and b at QoS 1 (acknowledged), then an UNSUBSCRIBE of a without its UNSUBACK. */
  function pendingUnsubscribe(onUnsubscribed: (c: any) => void) {
    const t = connected({ reconnectPeriod: 100 });
    t.c.subscribe(["a", "b"], { qos: 1 });
    const p = drain(t.broker, 10)[0];
    t.broker.send({ cmd: "suback", messageId: p.messageId, granted: [1, 1] });
    t.clock.flush();
    t.c.unsubscribe("a", () => onUnsubscribed(t.c));
    drain(t.broker, 10);
    return t;
  }

  it("are called back after the subscriptions are made again: an unsubscribe from the callback reaches the broker last", () => {
    const { broker, sim } = pendingUnsubscribe((c) => c.unsubscribe("b"));
    sim.cut();
    broker.expectPacket("connect");
    broker.connack(0, false);
    // SUBSCRIBE b first, or the broker would keep b
    expect(lines(drain(broker, 10))).toEqual(["SUBSCRIBE id=3 b:q1", "UNSUBSCRIBE id=4 b"]);
  });

  it("a subscribe from the callback goes after the subscriptions made again, so its QoS is the one the broker keeps", () => {
    const { broker, sim } = pendingUnsubscribe((c) => c.subscribe("b", { qos: 0 }));
    sim.cut();
    broker.expectPacket("connect");
    broker.connack(0, false);
    expect(lines(drain(broker, 10))).toEqual(["SUBSCRIBE id=3 b:q1", "SUBSCRIBE id=4 b:q0"]);
  });

  it("a reconnect() from the callback: the new connection starts with CONNECT [MQTT-3.1.0-1]", () => {
    const { broker, clock, sim } = pendingUnsubscribe((c) => c.reconnect());
    const first = new Map<any, number>();
    tapWrites(sim, (b, conn) => first.has(conn) || first.set(conn, b[0] >> 4));
    sim.cut();
    broker.expectPacket("connect");
    broker.connack(0, false);
    clock.flush();
    drain(broker, 100);
    expect([...first.values()]).toEqual([1, 1]);
  });

  it("an end() from the callback: every other request is called back exactly once (108 for those still waiting)", () => {
    const got: string[] = [];
    const { broker, clock, c, sim } = pendingUnsubscribe((x) => x.end(true));
    c.unsubscribe("b", (e: any) => got.push("b " + (e ? e.code : "ok")));
    c.subscribe("x", (e: any) => got.push("x " + (e ? e.code : "ok")));
    drain(broker, 10);
    sim.cut();
    broker.expectPacket("connect");
    broker.connack(0, false);
    clock.flush();
    expect(got.sort()).toEqual(["b ok", "x 108"]);
  });
});

describe("unsubscribe() while offline", () => {
  it("a refused unsubscribe whose callback subscribes leaves that SUBSCRIBE waiting for its SUBACK", () => {
    const { broker, clock, c, sim } = connected({ reconnectPeriod: 100 });
    sim.cut();
    clock.flush();
    const got: any[] = [];
    c.unsubscribe("", () => c.subscribe("x", { qos: 1 }, (e: any, g: any) => got.push([e && e.code, g])));
    expect(got).toEqual([]);
    broker.expectPacket("connect");
    broker.connack(0, false);
    expect(lines(drain(broker, 10))).toEqual(["SUBSCRIBE id=1 x:q1"]);
  });
});
