// Reconnect: exponential backoff with jitter from reconnectPeriod to reconnectMax, reset by a
// successful CONNACK; `offline` and `reconnect`; reconnect() now; never after end(); a clock
// that jumps or ticks late.
import { describe, it, expect, vi, afterEach } from "vitest";
import { TICK, connected, drain, prng, record, rig, tapWrites } from "./helpers";
import { ScriptedBroker } from "../sim/broker";

afterEach(() => {
  vi.restoreAllMocks();
});

/** A rig whose connection attempts are all refused, recording when each attempt starts. */
function refusing(opts: any, rand?: () => number) {
  const draws: number[] = [];
  if (rand) vi.spyOn(Math, "random").mockImplementation(() => {
    const u = rand();
    draws.push(u);
    return u;
  });
  const r = rig();
  r.sim.listen(null);
  const c = r.make(opts);
  const at: number[] = [];
  const net: any = r.sim.net, connect = net.connect;
  net.connect = (...a: any[]) => {
    at.push(r.clock.elapsed());
    return connect(...a);
  };
  return { ...r, c, at, draws };
}

describe("backoff", () => {
  const P = 1000, MAX = 16000;
  const step = (i: number) => Math.min(MAX, P * 2 ** i);

  it("doubles from reconnectPeriod to reconnectMax, each delay within [d/2, d]", () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const { clock, at } = refusing({ reconnectPeriod: P, reconnectMax: MAX }, prng(seed));
      clock.advance(200_000);
      expect(at.length).toBeGreaterThan(10);
      for (let i = 1; i < at.length; i++) {
        const d = step(i - 1), gap = at[i] - at[i - 1];
        expect(gap, `seed ${seed} attempt ${i}`).toBeGreaterThanOrEqual(d / 2);
        expect(gap, `seed ${seed} attempt ${i}`).toBeLessThanOrEqual(d);
      }
    }
  });

  it("draws each delay uniformly from the upper half of the step (exact, to the tick)", () => {
    const { clock, at, draws } = refusing({ reconnectPeriod: P, reconnectMax: MAX }, prng(42));
    clock.advance(120_000);
    for (let i = 1; i < at.length; i++) {
      const d = step(i - 1);
      expect(at[i] - at[i - 1]).toBe(Math.ceil((d / 2 + draws[i - 1] * (d / 2)) / TICK) * TICK);
    }
  });

  it("with jitter at its extremes: exactly d/2 and exactly d, capped at reconnectMax", () => {
    for (const [u, half] of [[0, true], [0.999999, false]] as const) {
      const { clock, at } = refusing({ reconnectPeriod: P, reconnectMax: MAX }, () => u);
      clock.advance(150_000);
      const gaps = at.slice(1).map((t, i) => t - at[i]);
      const want = [1000, 2000, 4000, 8000, 16000, 16000, 16000].map((d) => (half ? d / 2 : d));
      expect(gaps.slice(0, 7)).toEqual(want);
    }
  });

  it("is reset by a successful CONNACK, not by a TCP connection that is then refused", () => {
    vi.spyOn(Math, "random").mockReturnValue(0.999999);
    const { sim, clock, make } = rig();
    const broker = new ScriptedBroker(sim);
    const c = make({ reconnectPeriod: P, reconnectMax: MAX });
    const starts: number[] = [];
    c.on("close", () => starts.push(-clock.elapsed()));
    c.on("reconnect", () => starts.push(clock.elapsed()));
    // Three refusals with CONNACK 3: the steps keep doubling although TCP connected each time.
    for (let i = 0; i < 3; i++) {
      broker.expectPacket("connect");
      broker.connack(3);
    }
    broker.expectPacket("connect");
    broker.connack(0);
    clock.flush();
    sim.cut();
    broker.expectPacket("connect");
    const gaps: number[] = [];
    for (let i = 1; i < starts.length; i += 2) gaps.push(starts[i] + starts[i - 1]);
    expect(gaps).toEqual([1000, 2000, 4000, 1000]);
  });
});

describe("events and reconnect()", () => {
  it("a lost connection fires close, offline, then reconnect when the next attempt starts", () => {
    const { sim, clock, c, broker } = connected({ reconnectPeriod: 1000 });
    const log = record(c, clock);
    clock.advance(50);
    const t = clock.elapsed();
    sim.cut();
    clock.flush();
    expect(log).toEqual([`@${t} error 312`, `@${t} close`, `@${t} offline`]);
    broker.expectPacket("connect");
    broker.connack(0);
    clock.flush();
    expect(log.slice(3).map((l) => l.split(" ")[1])).toEqual(["reconnect", "connect"]);
    expect(c.stats.reconnects).toBe(1);
  });

  it("a connection closed cleanly by the broker is not an error: close and offline only", () => {
    const { clock, c, broker } = connected();
    const log = record(c);
    broker.end();
    clock.flush();
    expect(log).toEqual(["close", "offline"]);
  });

  it("a failed attempt fires close but not offline (the client was not connected)", () => {
    const { clock, c, at } = refusing({ reconnectPeriod: 1000 }, () => 0.999999);
    const log = record(c);
    clock.advance(2000);
    expect(at.length).toBe(2);
    expect(log).toEqual(["error 312", "close", "reconnect", "error 312", "close"]);
  });

  it("reconnect() tries at once, even in the middle of a long backoff, and resets the backoff", () => {
    vi.spyOn(Math, "random").mockReturnValue(0.999999);
    const { clock, c, at } = refusing({ reconnectPeriod: 1000, reconnectMax: 60000 });
    clock.advance(1000 + 2000 + 4000 + 8000 + 50); // five attempts; the next is 16 s away
    expect(at).toHaveLength(5);
    const log = record(c);
    const t = clock.elapsed();
    c.reconnect();
    clock.flush();
    expect(at).toHaveLength(6);
    expect(at[5]).toBe(t);
    expect(log[0]).toBe("reconnect");
    clock.advance(1000 + TICK);
    expect(at).toHaveLength(7); // back to the first step after the failed try
    // (counted from reconnect() itself, which reads the clock: at the first tick at or after it)
    expect(at[6] - at[5]).toBeGreaterThanOrEqual(1000);
    expect(at[6] - at[5]).toBeLessThanOrEqual(1000 + TICK);
  });

  it("reconnect() on a live connection closes it and connects again now", () => {
    const { clock, c, broker, sim } = connected();
    const log = record(c);
    const t = clock.elapsed();
    c.reconnect();
    expect(broker.expectConnection(0)).toBe(sim.connections[1]);
    expect(sim.connections[0].state).toBe("closed");
    broker.expectPacket("connect", 0);
    broker.connack(0);
    clock.flush();
    expect(clock.elapsed()).toBe(t);
    expect(log).toEqual(["close", "offline", "reconnect", "connect sp=0"]);
  });

  it("reconnectPeriod 0 turns automatic reconnecting off; reconnect() still connects", () => {
    const { clock, c, broker, sim } = connected({ reconnectPeriod: 0 });
    sim.cut();
    clock.advance(3_600_000);
    expect(sim.connections).toHaveLength(1);
    c.reconnect();
    broker.expectPacket("connect", 0);
    broker.connack(0);
    clock.flush();
    expect(c.connected).toBe(true);
  });

  it("never reconnects after end(), whatever happens, and reconnect() is ignored", () => {
    const { clock, c, sim } = connected({ reconnectPeriod: 100 });
    c.end();
    clock.advance(1000);
    c.reconnect();
    clock.advance(3_600_000);
    expect(sim.connections).toHaveLength(1);
    expect(c.connected).toBe(false);
  });

  it("reconnect() while end() waits for the outbox does not bring the client back", () => {
    const { clock, c, sim, broker } = connected({ reconnectPeriod: 100 });
    const log = record(c);
    c.publish("t", "x", { qos: 1 });
    drain(broker, 10);
    c.end();
    c.reconnect();
    clock.advance(60_000);
    expect(sim.connections).toHaveLength(1);
    expect(log).not.toContain("connect sp=0");
    expect(c.connected).toBe(false);
  });

  it("end() right after connect() opens nothing", () => {
    const { sim, clock, make } = rig();
    new ScriptedBroker(sim);
    const c = make();
    c.end();
    clock.advance(60_000);
    expect(sim.connections).toHaveLength(0);
  });

  it("end() during the backoff cancels the next attempt", () => {
    const { clock, c, at } = refusing({ reconnectPeriod: 1000 }, () => 0.999999);
    clock.advance(500);
    expect(at).toHaveLength(1);
    c.end();
    clock.advance(3_600_000);
    expect(at).toHaveLength(1);
  });
});

describe("a clock that jumps or ticks late", () => {
  it("a wall clock set back an hour neither stalls the keepalive nor the dead-link detection", () => {
    const { clock, c, broker, sim } = connected({ keepalive: 10 });
    clock.advance(3000);
    clock.jump(-3_600_000);
    broker.expectPacket("pingreq", 10_000);
    expect(clock.elapsed()).toBeLessThanOrEqual(10_000 + TICK);
    sim.halfOpen();
    clock.advance(5000);
    expect(c.connected).toBe(false);
  });

  it("a wall clock set forward by hours fires nothing early: no ping timeout, no early PINGREQ", () => {
    const { clock, c, broker, log } = connected({ keepalive: 10 });
    broker.expectPacket("pingreq", 10_100);
    const ping = clock.elapsed();
    clock.advance(1000);
    clock.jump(5 * 3_600_000);
    clock.advance(1000);
    expect(c.connected).toBe(true);
    broker.send({ cmd: "pingresp" });
    clock.jump(7 * 3_600_000);
    broker.expectNoPacket(8000 - TICK * 2);
    broker.expectPacket("pingreq", 10_000);
    expect(clock.elapsed() - ping).toBeGreaterThanOrEqual(10_000 - TICK);
    expect(clock.elapsed() - ping).toBeLessThanOrEqual(10_000 + 2 * TICK);
    expect(log).toEqual(["connect sp=0"]);
  });

  it("a wall clock set forward while waiting for CONNACK is not a connect timeout", () => {
    const { sim, clock, make } = rig();
    const broker = new ScriptedBroker(sim);
    const c = make({ connectTimeout: 5000 });
    const log = record(c);
    broker.expectPacket("connect");
    clock.jump(10 * 3_600_000);
    clock.advance(1000);
    broker.connack(0);
    clock.flush();
    expect(log).toEqual(["connect sp=0"]);
  });

  it("a wall clock jump during the backoff neither fires the attempt early nor stalls it", () => {
    for (const jump of [-3_600_000, 6 * 3_600_000]) {
      vi.spyOn(Math, "random").mockReturnValue(0.999999);
      const { clock, at } = refusing({ reconnectPeriod: 8000 });
      clock.advance(500);
      clock.jump(jump);
      clock.advance(7000);
      expect(at).toHaveLength(1);
      clock.advance(700);
      expect(at).toHaveLength(2);
      expect(at[1] - at[0]).toBeGreaterThanOrEqual(8000 - TICK);
      expect(at[1] - at[0]).toBeLessThanOrEqual(8000 + TICK);
      vi.restoreAllMocks();
    }
  });

  it("late timer ticks still count the time that really passed (keepalive and backoff on time)", () => {
    const r = rig();
    const broker = new ScriptedBroker(r.sim);
    const pings: number[] = [], opens: number[] = [];
    tapWrites(r.sim, (b) => b[0] == 0xc0 && pings.push(r.clock.elapsed()));
    const c = r.make({ keepalive: 10, reconnectPeriod: 4000 });
    c.on("reconnect", () => opens.push(r.clock.elapsed()));
    broker.expectPacket("connect");
    broker.connack(0);
    r.clock.flush();
    const t0 = r.clock.elapsed();
    r.clock.lateBy(350, 100_000); // every timer, the client's tick included, fires 350 ms late
    r.clock.advance(12_000);
    expect(pings.length).toBe(1);
    // ticks now come every 450 ms: the PINGREQ is at most one of them off
    expect(Math.abs(pings[0] - t0 - 10_000)).toBeLessThanOrEqual(450 * 2);
    const t1 = r.clock.elapsed();
    r.sim.cut();
    r.clock.advance(20_000);
    expect(opens.length).toBeGreaterThan(0);
    expect(opens[0] - t1).toBeGreaterThanOrEqual(2000 - 450);
    expect(opens[0] - t1).toBeLessThanOrEqual(4000 + 450 * 3);
    r.clock.lateBy(0);
    expect(c.stats.reconnects).toBeGreaterThan(0);
  });
});
