// The Espruino adapter: the board's environment (require for net and tls, E, the clock and
// timers). Sockets deliver and take Strings (one char per byte): the client opens its socket
// itself, takes its chunks as they are, writes its packets (strings already, codec/text.ts; a
// Uint8Array written would be sent as comma-separated text) and waits for `drain` (see open(),
// _io and _out in client.ts): each adapter function would cost a board variables.
import { Platform, TimerEnv } from "./types";

/** What the adapter is built over: the board's globals, or the harness's fakes in tests. */
export interface EspruinoEnv extends TimerEnv {
  /** require, for "net" and (only when the options ask for TLS) "tls". */
  _req: (m: string) => any;
  _E: any;
}

export function espruinoPlatform(g: EspruinoEnv, tick: number): Platform {
  // No _open: on Espruino the client opens its socket itself (see open() in client.ts), with its
  // _io as the socket's listener.
  return { _g: g, _rand: Math.random, _tick: tick };
}

/** The environment of a real board. */
export function boardEnv(): EspruinoEnv {
  return {
    _req: require,
    _E: E,
    _now: Date.now,
    _setInterval: setInterval,
    _clearInterval: clearInterval,
    _setTimeout: setTimeout,
  };
}

declare var require: (m: string) => any;
declare var E: any;
