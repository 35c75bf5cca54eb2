// The Espruino adapter. Sockets deliver and take Strings (one char per byte): incoming chunks go
// to the decoder as they are, outgoing bytes become one flat string with E.toString (write()
// would send a typed array as comma-separated text). write() returns false; `drain` says when to
// go on. Errors are {code, message} with negative codes; TLS comes from require("tls").
import { Err } from "../errors";
import { Platform, SocketSink, TimerEnv } from "./types";
import { Io } from "../client";

/** What the adapter is built over: the board's globals, or the harness's fakes in tests. */
export interface EspruinoEnv extends TimerEnv {
  _net: () => any;
  _tls: () => any;
  _E: any;
}

/** Espruino's socket error codes [source]: -2 out of memory, -13/-14 TLS. */
function code(e: any): number {
  var c = e && e.code;
  return c == -2 ? Err.NoMemory : c == -13 || c == -14 ? Err.Tls : Err.Socket;
}

export function espruinoPlatform(g: EspruinoEnv, tick: number): Platform {
  function str(b: Uint8Array, a: number, e: number): any {
    return g._E.toString(b.subarray(a, e));
  }
  return {
    _open: function (c: SocketSink, host: string, port: number, tls: any) {
      var s: any,
        o: any = { host: host, port: port },
        k: any;
      if (tls) {
        if (!__TLS__) throw { code: Err.NoTls };
        if (typeof tls == "object") for (k in tls) o[k] = tls[k];
      }
      s = (tls ? g._tls() : g._net()).connect(o, function () {
        c._io(s, Io.Opened);
      });
      s.on("data", function (d: string) {
        c._io(s, Io.Data, d);
      });
      s.on("drain", function () {
        c._io(s, Io.Drain);
      });
      // An error may come without a close, and a close without an error: either ends the socket
      // for the client, which ignores whatever the socket says after that.
      s.on("error", function (e: any) {
        c._io(s, Io.Closed, code(e), e && e.code);
      });
      s.on("close", function () {
        c._io(s, Io.Closed, 0);
      });
      return s;
    },
    _write: function (s: any, b: Uint8Array, a: number, e: number) {
      var t = str(b, a, e);
      if (t === undefined) throw { code: Err.NoMemory };
      try {
        s.write(t);
      } catch (x) {
        // Espruino's write throws when it cannot allocate the send buffer ("Out of Memory!").
        throw { code: Err.NoMemory, errno: x };
      }
      return false;
    },
    _close: function (s: any) {
      s.end();
    },
    _g: g,
    _alloc: function (n: number) {
      return new Uint8Array(n);
    },
    _topic: str,
    _payload: str,
    _rand: Math.random,
    _tick: tick,
  };
}

/** The environment of a real board. */
export function boardEnv(): EspruinoEnv {
  return {
    _net: function () {
      return require("net");
    },
    _tls: function () {
      return require("tls");
    },
    _E: E,
    _now: Date.now,
    _setInterval: setInterval,
    _clearInterval: clearInterval,
    _setTimeout: setTimeout,
  };
}

declare var require: (m: string) => any;
declare var E: any;
