// The Espruino adapter. Sockets deliver and take Strings (one char per byte): incoming chunks go
// to the client as they are, and the client's packets are strings already (codec/text.ts; a
// Uint8Array written would be sent as comma-separated text). The client writes them to the socket
// itself, then waits for `drain` (an adapter function would cost a board variables; see _out in
// client.ts). Errors are {code, message} with negative codes; TLS comes from require("tls").
import { Err } from "../errors";
import { Platform, SocketSink, TimerEnv } from "./types";
import { Io } from "../client";

/** What the adapter is built over: the board's globals, or the harness's fakes in tests. */
export interface EspruinoEnv extends TimerEnv {
  /** require, for "net" and (only when the options ask for TLS) "tls". */
  _req: (m: string) => any;
  _E: any;
}

// No closures: a function made inside another is copied into RAM each time it is made (about 10
// JsVars each from Storage, measured), so the socket's listener is a module function, called by
// Espruino with the socket as `this`, which carries its client; the platform's methods are
// module functions too, called with the platform as `this`.
/**
 * The socket's one listener (one function fewer on a board), told apart by its argument: connect
 * and drain get the socket itself (the socket takes writes; the client tells the two apart by its
 * state), data a string, error {code, message} (Espruino's codes [source] -2 out of memory,
 * -13/-14 TLS; ours for them) and close a boolean.
 */
export function socketEvent(this: any, x: any) {
  var c = x && x.code;
  if (x === this) this._client._io(this, Io.Opened);
  else if (typeof x == "string") this._client._io(this, Io.Data, x);
  else this._client._io(this, Io.Closed, typeof x != "object" ? 0 : c == -2 ? Err.NoMemory : __TLS__ && (c == -13 || c == -14) ? Err.Tls : Err.Socket, c);
}

export function espruinoPlatform(g: EspruinoEnv, tick: number): Platform {
  // No _open: on Espruino the client opens its socket itself (see open() in client.ts), with
  // socketEvent as its listener.
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
