// Keepalive: a PINGREQ when nothing was sent or nothing was received for the keepalive period;
// nothing at all back within half the keepalive less two ticks after it means the link is dead.
import { describe, it, expect } from "vitest";
import { CHUNKS, TICK, connected, drain, lines } from "./helpers";

const K = 10; // keepalive in seconds
const KMS = K * 1000;
/** The wait after a PINGREQ (the code's rule): half the keepalive less two ticks. */
const WAIT = KMS / 2 - 2 * TICK;

/** Runs the clock in steps of `step` ms for `ms`, calling fn(t) before each step. */
function every(clock: any, step: number, ms: number, fn: (t: number) => void) {
  for (let t = 0; t < ms; t += step) {
    fn(t);
    clock.advance(step);
  }
}

describe.each(CHUNKS)("keepalive (chunkSize %s)", (_, chunkSize) => {
  it("sends PINGREQ after a keepalive period of silence both ways, and stays up while PINGRESP comes back [MQTT-3.1.2-23]", () => {
    const { broker, clock, c, log } = connected({ keepalive: K }, {}, { chunkSize });
    const t0 = clock.elapsed();
    const pings: number[] = [];
    for (let i = 0; i < 10; i++) {
      broker.expectPacket("pingreq", KMS + TICK);
      pings.push(clock.elapsed());
      broker.send({ cmd: "pingresp" });
    }
    const gaps = pings.map((t, i) => t - (i ? pings[i - 1] : t0));
    for (const g of gaps) {
      expect(g).toBeGreaterThan(KMS - TICK);
      expect(g).toBeLessThanOrEqual(KMS + TICK);
    }
    expect(log).toEqual(["connect sp=0"]);
    expect(c.stats.ignored).toBe(0);
    expect(c.connected).toBe(true);
  });

  it("sends PINGREQ when nothing was sent for the keepalive, even while messages keep arriving", () => {
    const { broker, clock, c } = connected({ keepalive: K }, {}, { chunkSize });
    const t0 = clock.elapsed();
    let got = 0;
    c.on("message", () => got++);
    let ping = -1;
    every(clock, 1000, 3 * KMS, () => {
      broker.send({ cmd: "publish", topic: "in", payload: "x", qos: 0 });
      for (let p = broker.nextPacket(); p; p = broker.nextPacket()) {
        if (p.cmd == "pingreq" && ping < 0) ping = clock.elapsed();
        if (p.cmd == "pingreq") broker.send({ cmd: "pingresp" });
      }
    });
    expect(got).toBeGreaterThan(25);
    expect(ping - t0).toBeGreaterThan(KMS - TICK);
    expect(ping - t0).toBeLessThanOrEqual(KMS + 1000);
    expect(c.connected).toBe(true);
  });

  it("sends PINGREQ when nothing was received for the keepalive, even while the app publishes", () => {
    const { broker, clock, c } = connected({ keepalive: K }, {}, { chunkSize });
    const t0 = clock.elapsed();
    let ping = -1;
    every(clock, 1000, 1.2 * KMS, () => {
      c.publish("out", "x");
      for (let p = broker.nextPacket(); p; p = broker.nextPacket()) if (p.cmd == "pingreq" && ping < 0) ping = clock.elapsed();
    });
    expect(ping - t0).toBeGreaterThan(KMS - TICK);
    expect(ping - t0).toBeLessThanOrEqual(KMS + TICK);
  });

  it("any packet after PINGREQ shows the link is alive, not only PINGRESP", () => {
    const { broker, clock, c, log } = connected({ keepalive: K }, {}, { chunkSize });
    broker.expectPacket("pingreq", KMS + TICK);
    clock.advance(1000);
    broker.send({ cmd: "publish", topic: "in", payload: "x", qos: 0 });
    clock.advance(WAIT + 1000);
    expect(log).toEqual(["connect sp=0"]);
    expect(c.connected).toBe(true);
  });

  it("closes a link that answers nothing within half the keepalive less two ticks after PINGREQ (311), goes offline and reconnects", () => {
    const { broker, clock, c, log } = connected({ keepalive: K, reconnectPeriod: 1000 }, {}, { chunkSize });
    broker.expectPacket("pingreq", KMS + TICK);
    const ping = clock.elapsed();
    const dropped: number[] = [];
    c.on("offline", () => dropped.push(clock.elapsed()));
    clock.advance(WAIT - TICK);
    expect(c.connected).toBe(true);
    clock.advance(2 * TICK);
    expect(dropped).toHaveLength(1);
    expect(dropped[0] - ping).toBeGreaterThanOrEqual(WAIT);
    expect(dropped[0] - ping).toBeLessThanOrEqual(WAIT + TICK);
    expect(log).toEqual(["connect sp=0", "error 311", "close", "offline"]);
    broker.expectPacket("connect", 2000);
    broker.connack(0);
    clock.flush();
    expect(log.slice(4)).toEqual(["reconnect", "connect sp=0"]);
  });

  it("keepalive 0 sends no PINGREQ and never declares the link dead", () => {
    const { broker, c } = connected({ keepalive: 0 }, {}, { chunkSize });
    broker.expectNoPacket(3_600_000);
    expect(c.connected).toBe(true);
  });
});

describe("a half-open link", () => {
  // Detected within 1.5 x keepalive of the last byte received: the PINGREQ goes out a keepalive
  // after it (tick-aligned, so up to one tick early) and the wait after it is K/2 - 2 ticks.
  const LOW = KMS + WAIT - TICK;
  const HIGH = KMS + WAIT;

  function detect(publishEveryMs: number) {
    const { broker, clock, c, log, sim } = connected({ keepalive: K, reconnectPeriod: 1000 });
    let lastIn = -1;
    c.on("message", () => (lastIn = clock.elapsed()));
    broker.expectPacket("pingreq", KMS + TICK);
    broker.send({ cmd: "pingresp" });
    clock.flush();
    lastIn = clock.elapsed(); // both ways quiet from here
    if (publishEveryMs < KMS) {
      clock.advance(1234); // a last message off the tick grid
      broker.send({ cmd: "publish", topic: "in", payload: "last words", qos: 0 });
      clock.flush();
    }
    sim.halfOpen();
    let off = -1;
    c.on("offline", () => (off = clock.elapsed()));
    let sent = 0;
    every(clock, publishEveryMs, 3 * KMS, () => {
      if (off < 0 && publishEveryMs < KMS) c.publish("out", "x", () => sent++);
    });
    return { off: off - lastIn, log: log.slice(0, 4), sent, broker, c };
  }

  it("is detected 1.5 x keepalive less two ticks after the last byte both ways (K + K/2 - 2 ticks exactly)", () => {
    const { off, log } = detect(KMS * 10);
    expect(off).toBe(KMS + WAIT);
    expect(off).toBeLessThanOrEqual(1.5 * KMS);
    expect(log).toEqual(["connect sp=0", "error 311", "close", "offline"]);
  });

  it("is detected within the same bound (to a tick) while the app publishes QoS 0 faster than the keepalive", () => {
    const { off, log, sent } = detect(700);
    expect(sent).toBeGreaterThan(15);
    expect(off).toBeGreaterThan(LOW);
    expect(off).toBeLessThanOrEqual(HIGH);
    expect(off).toBeLessThanOrEqual(1.5 * KMS);
    expect(log).toEqual(["connect sp=0", "error 311", "close", "offline"]);
  });

  it("is detected within the same bound when the dead socket also stops taking writes (back-pressure)", () => {
    const { broker, clock, c, log, sim } = connected({ keepalive: K, reconnectPeriod: 1000 }, { queueSize: 4 }, { highWaterMark: 64 });
    broker.expectPacket("pingreq", KMS + TICK);
    broker.send({ cmd: "pingresp" });
    clock.flush();
    const lastIn = clock.elapsed();
    sim.halfOpen();
    sim.slowWrites(1e9); // the send buffer never empties: no drain ever comes
    let off = -1, full = 0;
    c.on("offline", () => (off = clock.elapsed()));
    every(clock, 500, 2 * KMS, () => {
      if (off < 0) c.publish("out", "x".repeat(40), (e: any) => e && e.code == 107 && full++);
    });
    expect(full).toBeGreaterThan(0); // the outbox filled up behind the stuck socket
    expect(off - lastIn).toBe(KMS + WAIT);
    expect(log.slice(0, 4)).toEqual(["connect sp=0", "error 311", "close", "offline"]);
  });

  it("is detected after every reconnection too, and the client comes back when the link does", () => {
    const { broker, clock, c, sim, log } = connected({ keepalive: K, reconnectPeriod: 1000, reconnectMax: 2000 });
    for (let i = 0; i < 3; i++) {
      sim.halfOpen();
      clock.advance(1.5 * KMS);
      expect(c.connected).toBe(false);
      broker.expectPacket("connect", 3000);
      broker.connack(0);
      clock.flush();
      expect(c.connected).toBe(true);
    }
    expect(log.filter((l) => l == "error 311")).toHaveLength(3);
    expect(lines(drain(broker))).toEqual([]);
  });
});
