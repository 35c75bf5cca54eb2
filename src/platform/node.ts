// The Node adapter: net/tls sockets read and written as latin1, so packets are 8-bit strings as on
// a board (decoded where they lie in a chunk); back-pressure from write()'s result and `drain`.
// TLS verifies the server by default.
//
// Each packet is its own write(): while one is in flight, Node's socket queues the next ones and
// hands them to the kernel together (writev), so a loaded socket batches by itself. Staging a
// turn's packets into one write measured slower on every row of the client bench (README,
// Performance), and cork() until the next tick slower still.
import { Err } from "../errors";
import { Platform, SocketSink, TimerEnv } from "./types";
import { Io } from "../client";
import { latin1 } from "../codec/text";

export interface NodeEnv extends TimerEnv {
  _net: any;
  _tls: any;
}

/** Node's error codes: TLS and certificate failures get their own code (314). */
function code(e: any): number {
  var c = String((e && e.code) || "");
  return /CERT|TLS|SSL|ALTNAME|SELF_SIGNED|VERIFY/.test(c) || /certificate|TLS|SSL/.test(String(e && e.message)) ? Err.Tls : Err.Socket;
}

// ---- socket events -----------------------------------------------------------------------------
// Functions shared by every socket, not closures per client: the socket holds its client in
// `mqttiny` and the state of its handshake in `mqttinyHs` (names the minifier keeps, so that they
// cannot meet one of Node's own properties).

function onOpen(this: any) {
  this.mqttinyHs = 2;
  this.mqttiny._io(this, Io.Opened);
}
function onTcp(this: any) {
  this.mqttinyHs = this.mqttinyHs || 1;
}
function onData(this: any, d: any) {
  // Packets are 8-bit strings on every target: a socket set to latin1 gives them so.
  this.mqttiny._io(this, Io.Data, typeof d == "string" ? d : latin1(d));
}

function onDrain(this: any) {
  this.mqttiny._io(this, Io.Drain);
}
function onError(this: any, e: any) {
  // The Error itself goes to the client, which keeps its code in err.errno and its words in the
  // message (src/node/node.ts). mqttinyHs 1: TCP up, TLS not: a reset then is a TLS failure (e.g. a
  // TLS client on a plain port), not a socket error.
  this.mqttiny._io(this, Io.Closed, this.mqttinyHs == 1 ? Err.Tls : code(e), e);
}
function onClose(this: any) {
  this.mqttiny._io(this, Io.Closed, 0);
}

/** The Node platform. */
export function nodePlatform(g: NodeEnv, tick: number): Platform {
  return {
    _open: function (c: SocketSink, opts: any) {
      var s: any, host = opts.host, tls = opts.tls, o: any = { host: host, port: opts.port }, k: any;
      if (tls) {
        // An IP address is no server name (RFC 6066); Node checks the certificate against host.
        if (!/^[\d.]+$|:/.test(host)) o.servername = host;
        if (typeof tls == "object") for (k in tls) o[k] = tls[k];
        s = g._tls.connect(o);
        s.on("connect", onTcp);
      } else s = g._net.connect(o);
      s.mqttiny = c;
      s.mqttinyHs = 0;
      s.setNoDelay && s.setNoDelay(true);
      s.setEncoding && s.setEncoding("latin1");
      s.on(tls ? "secureConnect" : "connect", onOpen);
      s.on("data", onData);
      s.on("drain", onDrain);
      s.on("error", onError);
      s.on("close", onClose);
      return s;
    },
    _write: function (s: any, b: string) {
      return s.write(b, "latin1");
    },
    _close: function (s: any, fl?: boolean) {
      if (!fl) {
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
    _topic: function (b: string, a: number, e: number) {
      // UTF-8 bytes as an 8-bit string: ASCII, the common case, is the topic already.
      for (var t = b.substring(a, e), i = 0; i < t.length; i++) if (t.charCodeAt(i) > 127) return Buffer.from(t, "latin1").toString("utf8");
      return t;
    },
    _payload: function (b: string, a: number, e: number) {
      return Buffer.from(b.substring(a, e), "latin1");
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
