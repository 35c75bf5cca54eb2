// VirtualClock: a synchronous fake of now() and the timer functions, for the simulated-socket
// harness. Nothing runs unless the test advances the clock.
//
// Two time axes, like a real device:
//  - a monotonic axis that timers are scheduled on (advance/stall move it forward), and
//  - the wall clock that now() reads: monotonic time plus an offset that jump() changes, as an
//    SNTP sync or setTime() does. jump() never runs, skips or reschedules a timer.
// Timers due at the same time run in the order they were scheduled. An interval is rescheduled
// from the moment its callback actually ran (Node's rule), so a late tick does not cause a burst.

export type TimerHandle = number | SimTimeout;

/** What Node's setTimeout returns, reduced to what client code may touch. */
export interface SimTimeout {
  readonly id: number;
  ref(): SimTimeout;
  unref(): SimTimeout;
  hasRef(): boolean;
}

interface Timer {
  id: number;
  seq: number;
  due: number;
  fn: (...args: any[]) => void;
  args: any[];
  every: number; // > 0 for intervals
  late: boolean; // lateBy() already applied to this firing
}

export interface ClockOptions {
  /** Initial wall-clock reading in ms (default 1_700_000_000_000). */
  start?: number;
  /** "number" handles as Espruino returns them, "object" handles as Node does (default "number"). */
  handles?: "number" | "object";
}

/** The injected environment a platform adapter receives. */
export interface TimerEnv {
  now(): number;
  setTimeout(fn: (...args: any[]) => void, ms?: number, ...args: any[]): TimerHandle;
  clearTimeout(h: TimerHandle | undefined | null): void;
  setInterval(fn: (...args: any[]) => void, ms?: number, ...args: any[]): TimerHandle;
  clearInterval(h: TimerHandle | undefined | null): void;
}

const MAX_CALLBACKS_PER_ADVANCE = 1_000_000;

export class VirtualClock implements TimerEnv {
  private mono = 0;
  private offset: number;
  private seq = 0;
  private nextId = 1;
  private timers = new Map<number, Timer>();
  private lateMs = 0;
  private lateCount = 0;
  private readonly objectHandles: boolean;

  constructor(opts: ClockOptions = {}) {
    this.offset = opts.start ?? 1_700_000_000_000;
    this.objectHandles = opts.handles === "object";
    // Bind so the methods can be handed out as plain functions (env.setTimeout(fn, ms)).
    this.now = this.now.bind(this);
    this.setTimeout = this.setTimeout.bind(this);
    this.setInterval = this.setInterval.bind(this);
    this.clearTimeout = this.clearTimeout.bind(this);
    this.clearInterval = this.clearInterval.bind(this);
  }

  /** Wall-clock time in ms (monotonic time plus every jump so far). */
  now(): number {
    return this.mono + this.offset;
  }

  /** Espruino's getTime(): wall-clock seconds as a float. */
  getTime(): number {
    return this.now() / 1000;
  }

  /** Monotonic ms since the clock was created; unaffected by jump(). */
  elapsed(): number {
    return this.mono;
  }

  setTimeout(fn: (...args: any[]) => void, ms?: number, ...args: any[]): TimerHandle {
    return this.add(fn, ms, args, false);
  }

  setInterval(fn: (...args: any[]) => void, ms?: number, ...args: any[]): TimerHandle {
    return this.add(fn, ms, args, true);
  }

  /** Clears a timeout or an interval (both platforms accept either handle in either function). */
  clearTimeout(h: TimerHandle | undefined | null): void {
    if (h == null) return;
    this.timers.delete(typeof h === "number" ? h : h.id);
  }

  clearInterval(h: TimerHandle | undefined | null): void {
    this.clearTimeout(h);
  }

  /** The functions an adapter is given, bound to this clock. */
  env(): TimerEnv {
    return {
      now: this.now,
      setTimeout: this.setTimeout,
      clearTimeout: this.clearTimeout,
      setInterval: this.setInterval,
      clearInterval: this.clearInterval,
    };
  }

  /** Number of timers waiting (harness events scheduled on this clock included). */
  pending(): number {
    return this.timers.size;
  }

  /** Monotonic ms until the earliest timer is due (0 if overdue), or undefined if none. */
  nextIn(): number | undefined {
    const t = this.earliest(Infinity);
    return t ? Math.max(0, t.due - this.mono) : undefined;
  }

  /**
   * Moves time forward by ms, running every timer that falls due on the way in time order,
   * including timers scheduled by those callbacks. The clock reads each timer's due time (or
   * later, see lateBy) while its callback runs, and reads start+ms at the end.
   * An exception from a callback propagates to the caller; the clock stays at that timer's time.
   */
  advance(ms = 0): void {
    if (!(ms >= 0)) throw new RangeError(`VirtualClock.advance: bad ms ${ms}`);
    const target = this.mono + ms;
    let n = 0;
    for (;;) {
      const t = this.earliest(target);
      if (!t) break;
      if (this.lateCount > 0 && !t.late) {
        this.lateCount--;
        t.late = true;
        t.due += this.lateMs;
        continue; // it now fires later; others may come first
      }
      if (++n > MAX_CALLBACKS_PER_ADVANCE) throw new Error("VirtualClock: runaway timers (a 0 ms interval?)");
      if (t.due > this.mono) this.mono = t.due;
      if (t.every > 0) {
        t.due = this.mono + t.every;
        t.seq = this.seq++;
        t.late = false;
      } else {
        this.timers.delete(t.id);
      }
      t.fn.apply(undefined, t.args);
    }
    this.mono = target;
  }

  /** Runs only what is due now (events scheduled with 0 delay included). */
  flush(): void {
    this.advance(0);
  }

  /**
   * Advances to the next due timer (at most maxMs) and runs what is due then.
   * Returns false when nothing is scheduled within maxMs (the clock then moves by maxMs).
   */
  step(maxMs = Infinity): boolean {
    const d = this.nextIn();
    if (d === undefined || d > maxMs) {
      if (maxMs !== Infinity) this.advance(maxMs);
      return false;
    }
    this.advance(d);
    return true;
  }

  /**
   * Wall-clock jump (SNTP sync, setTime): now() moves by ms, forward or backward.
   * No timer runs, none is skipped; timers stay due after the same monotonic delay.
   */
  jump(ms: number): void {
    this.offset += ms;
  }

  /**
   * The device was busy for ms (a blocking flash write, GC, a long callback): time moves on but
   * no timer runs. Timers that fell due fire late at the next advance()/flush(), reading the
   * later time.
   */
  stall(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`VirtualClock.stall: bad ms ${ms}`);
    this.mono += ms;
  }

  /** The next `count` timer callbacks each fire ms after their due time. lateBy(0) cancels. */
  lateBy(ms: number, count = 1): void {
    this.lateMs = ms;
    this.lateCount = ms > 0 ? count : 0;
  }

  private add(fn: (...args: any[]) => void, ms: number | undefined, args: any[], every: boolean): TimerHandle {
    if (typeof fn !== "function") throw new TypeError("VirtualClock: callback is not a function");
    let d = Number(ms);
    if (!(d > 0)) d = 0;
    if (every && d === 0) d = 1; // Node and Espruino both refuse a 0 ms interval loop
    const id = this.nextId++;
    this.timers.set(id, { id, seq: this.seq++, due: this.mono + d, fn, args, every: every ? d : 0, late: false });
    if (!this.objectHandles) return id;
    const h: SimTimeout = {
      id,
      ref: () => h,
      unref: () => h,
      hasRef: () => true,
    };
    return h;
  }

  private earliest(limit: number): Timer | undefined {
    let best: Timer | undefined;
    for (const t of this.timers.values()) {
      if (t.due > limit) continue;
      if (!best || t.due < best.due || (t.due === best.due && t.seq < best.seq)) best = t;
    }
    return best;
  }
}
