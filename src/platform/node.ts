// The Node adapter: net/tls sockets with Buffer chunks (decoded in place when a packet lies in one
// chunk), back-pressure from write()'s result and `drain`. TLS verifies the server by default.
import { Err } from "../errors";
import { Platform, SocketSink, TimerEnv } from "./types";
import { Io } from "../client";

export interface NodeEnv extends TimerEnv {
  _net: any;
  _tls: any;
}

/** Node's error codes: TLS and certificate failures get their own code (314). */
function code(e: any): number {
  var c = String((e && e.code) || "");
  return /CERT|TLS|SSL|ALTNAME|SELF_SIGNED|VERIFY/.test(c) || /certificate|TLS|SSL/.test(String(e && e.message)) ? Err.Tls : Err.Socket;
}

export function nodePlatform(g: NodeEnv, tick: number): Platform {
  return {
    _open: function (c: SocketSink, host: string, port: number, tls: any) {
      // hs: 1 once TCP is up, 2 once the TLS handshake is done; a reset between the two is a
      // TLS failure (e.g. a TLS client on a plain port), not a socket error.
      var s: any, o: any = { host: host, port: port }, k: any, ev = "connect", hs = 0;
      if (tls) {
        // An IP address is no server name (RFC 6066); Node checks the certificate against host.
        if (!/^[\d.]+$|:/.test(host)) o.servername = host;
        if (typeof tls == "object") for (k in tls) o[k] = tls[k];
        s = g._tls.connect(o);
        ev = "secureConnect";
        s.on("connect", function () {
          hs = hs || 1;
        });
      } else s = g._net.connect(o);
      s.setNoDelay && s.setNoDelay(true);
      s.on(ev, function () {
        hs = 2;
        c._io(s, Io.Opened);
      });
      s.on("data", function (d: Uint8Array) {
        c._io(s, Io.Data, d);
      });
      s.on("drain", function () {
        c._io(s, Io.Drain);
      });
      s.on("error", function (e: any) {
        c._io(s, Io.Closed, hs == 1 ? Err.Tls : code(e), e && e.code);
      });
      s.on("close", function () {
        c._io(s, Io.Closed, 0);
      });
      return s;
    },
    _write: function (s: any, b: Uint8Array, a: number, e: number) {
      // A copy: the socket may hold on to what it is given until it is flushed.
      return s.write(Buffer.from(b.subarray(a, e)));
    },
    _close: function (s: any, flush?: boolean) {
      if (!flush) {
        s.destroy();
        return;
      }
      // destroy() would drop the DISCONNECT still queued; end() sends it, then FIN. The destroy
      // later is for a peer that never answers the FIN (unref'd: it keeps no process alive).
      s.end();
      var t = g._setTimeout(function () {
        s.destroy();
      }, 2000);
      if (t && t.unref) t.unref();
    },
    _g: g,
    _alloc: function (n: number) {
      return Buffer.alloc(n);
    },
    _topic: function (b: any, a: number, e: number) {
      // Chunks and the receive buffer are Buffers on Node: no view to make per message.
      return (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.length)).toString("utf8", a, e);
    },
    _payload: function (b: Uint8Array, a: number, e: number) {
      return Buffer.from(b.subarray(a, e));
    },
    _rand: Math.random,
    _tick: tick,
  };
}

/** The environment of a Node process. */
export function processEnv(): NodeEnv {
  return {
    _net: require("net"),
    _tls: require("tls"),
    _now: Date.now,
    _setInterval: setInterval,
    _clearInterval: clearInterval,
    _setTimeout: setTimeout,
  };
}

declare var require: (m: string) => any;
declare var Buffer: any;
