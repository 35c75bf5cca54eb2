import { describe, expect, it } from "vitest";
import { VirtualClock } from "./clock";

describe("VirtualClock", () => {
  it("runs nothing until advanced, then due timers in time order, reading their due time", () => {
    const c = new VirtualClock({ start: 1000 });
    const seen: string[] = [];
    c.setTimeout(() => seen.push(`b@${c.now()}`), 20);
    c.setTimeout(() => seen.push(`a@${c.now()}`), 10);
    c.setTimeout(() => seen.push(`c@${c.now()}`), 20); // same due time: scheduling order
    expect(seen).toEqual([]);
    c.advance(15);
    expect(seen).toEqual(["a@1010"]);
    expect(c.now()).toBe(1015);
    c.advance(100);
    expect(seen).toEqual(["a@1010", "b@1020", "c@1020"]);
    expect(c.now()).toBe(1115);
  });

  it("runs timers scheduled during advance() when they fall due within it", () => {
    const c = new VirtualClock({ start: 0 });
    const seen: number[] = [];
    c.setTimeout(() => {
      seen.push(c.now());
      c.setTimeout(() => seen.push(c.now()), 0);
      c.setTimeout(() => seen.push(c.now()), 30);
      c.setTimeout(() => seen.push(c.now()), 300); // beyond this advance
    }, 10);
    c.advance(50);
    expect(seen).toEqual([10, 10, 40]);
    expect(c.pending()).toBe(1);
  });

  it("repeats intervals and clears by number or object handle", () => {
    for (const handles of ["number", "object"] as const) {
      const c = new VirtualClock({ handles, start: 0 });
      let n = 0;
      const h = c.setInterval(() => n++, 100);
      expect(typeof h).toBe(handles);
      c.advance(350);
      expect(n).toBe(3);
      c.clearInterval(h);
      c.advance(1000);
      expect(n).toBe(3);
      const t = c.setTimeout(() => n++, 10);
      c.clearTimeout(t);
      c.clearTimeout(undefined);
      c.advance(100);
      expect(n).toBe(3);
      expect(c.pending()).toBe(0);
    }
  });

  it("passes extra arguments and hands out a bound environment", () => {
    const c = new VirtualClock({ start: 5 });
    const env = c.env();
    let got: any[] = [];
    env.setTimeout((a: number, b: string) => (got = [a, b, env.now()]), 1, 7, "x");
    c.advance(1);
    expect(got).toEqual([7, "x", 6]);
  });

  it("jump() moves now() either way without running, skipping or moving any timer", () => {
    const c = new VirtualClock({ start: 1_000_000 });
    const fired: number[] = [];
    c.setTimeout(() => fired.push(c.now()), 1000);
    c.jump(3_600_000);
    expect(fired).toEqual([]);
    expect(c.now()).toBe(4_600_000);
    c.jump(-7_200_000); // backwards past the start
    expect(c.now()).toBe(-2_600_000);
    expect(fired).toEqual([]);
    c.advance(999);
    expect(fired).toEqual([]);
    c.advance(1);
    expect(fired).toEqual([-2_600_000 + 1000]);
    expect(c.elapsed()).toBe(1000);
  });

  it("lateBy() makes the next callback fire late; others due earlier go first", () => {
    const c = new VirtualClock({ start: 0 });
    const seen: string[] = [];
    c.setTimeout(() => seen.push(`a@${c.now()}`), 10);
    c.setTimeout(() => seen.push(`b@${c.now()}`), 20);
    c.lateBy(25);
    c.advance(30);
    expect(seen).toEqual(["b@20"]);
    c.advance(10);
    expect(seen).toEqual(["b@20", "a@35"]);
  });

  it("lateBy() on an interval reschedules from the late firing", () => {
    const c = new VirtualClock({ start: 0 });
    const at: number[] = [];
    c.setInterval(() => at.push(c.now()), 100);
    c.lateBy(40, 1);
    c.advance(400);
    expect(at).toEqual([140, 240, 340]);
  });

  it("stall() lets time pass without running timers; they then fire late", () => {
    const c = new VirtualClock({ start: 0 });
    const at: number[] = [];
    c.setTimeout(() => at.push(c.now()), 10);
    c.stall(500);
    expect(at).toEqual([]);
    c.flush();
    expect(at).toEqual([500]);
  });

  it("step() goes to the next due timer; nextIn() reports it", () => {
    const c = new VirtualClock({ start: 0 });
    expect(c.nextIn()).toBeUndefined();
    expect(c.step()).toBe(false);
    c.setTimeout(() => {}, 250);
    expect(c.nextIn()).toBe(250);
    expect(c.step(100)).toBe(false);
    expect(c.elapsed()).toBe(100);
    expect(c.step()).toBe(true);
    expect(c.elapsed()).toBe(250);
  });

  it("propagates a callback's exception out of advance()", () => {
    const c = new VirtualClock();
    c.setTimeout(() => { throw new Error("boom"); }, 1);
    expect(() => c.advance(5)).toThrow("boom");
  });
});
