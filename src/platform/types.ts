// What the session needs from a platform: a socket, a clock and a timer, and a way to hand bytes
// to the application. A target supplies one of these (src/platform/espruino.ts, node.ts); the
// simulated-socket harness runs the same adapters over a fake `net` and a virtual clock.

/**
 * The client's side of a socket: the adapter calls `_io` with the socket concerned and what
 * happened (Io in client.ts): opened; data (`x` the chunk); drain; closed (error or close: `x` an
 * Err, or 0 for a plain close, `errno` the platform's own code).
 */
export interface SocketSink {
  _io(s: any, ev: number, x?: any, errno?: any): void;
}

/** Time as the platform gives it. `_now` may jump (the session copes). */
export interface TimerEnv {
  _now(): number;
  _setInterval(fn: (a?: any) => void, ms: number, a?: any): any;
  _clearInterval(h: any): void;
  _setTimeout(fn: (a?: any) => void, ms: number, a?: any): any;
}

export interface Platform {
  /**
   * Opens a connection to `opts.host`, `opts.port` (over TLS when `opts.tls`: true or TLS options)
   * and wires its events to `c`; may throw. Absent on Espruino: the client opens its socket
   * itself over `_g._req("net")` or "tls" (which may throw, synchronously).
   */
  _open?(c: SocketSink, opts: { host: string; port: number; tls: any }): any;
  /**
   * Writes `b`, a whole packet as an 8-bit string; the bytes are taken before it returns. False
   * when the caller should wait for `drain` before writing more. Throws when the platform cannot.
   * Absent on Espruino: the client writes to the socket itself and waits for `drain`.
   */
  _write?(s: any, b: string): boolean;
  /**
   * Closes `s`; `flush`: after DISCONNECT, so what was written must go out first. (On Espruino the
   * client calls the socket's own end() instead.)
   */
  _close?(s: any, flush?: boolean): void;
  /** The clock and timers: the platform's own (Date.now, setInterval...) or a test's. */
  _g: TimerEnv;
  /**
   * The topic the application sees: a UTF-8-decoded string on Node. Absent on Espruino, where the
   * client takes the packet's own 8-bit substring.
   */
  _topic?(b: any, a: number, e: number): string | undefined;
  /** A payload the application may keep (undefined when memory ran out); absent on Espruino, as _topic. */
  _payload?(b: any, a: number, e: number): any;
  /** A number in [0, 1) for backoff jitter. */
  _rand(): number;
  /** Milliseconds between ticks of the session's single timer. */
  _tick: number;
}
