// The Node adapter: net/tls sockets read and written as latin1, so packets are 8-bit strings as on
// a board (decoded where they lie in a chunk); back-pressure from write()'s result and `drain`.
// TLS verifies the server by default.
//
// Writes can be coalesced (`coalesce`, as the node target has it): the packets a client writes
// during one turn of the event loop (its I/O callbacks) are joined and handed to the socket as
// one write at the end of the turn (setImmediate), or sooner when 64 KB are staged for it or it
// is closed. So a chunk of PUBACKs that releases a window of publishes costs one write, not one
// per packet. `_write` still returns false when the socket wants a `drain` (writableNeedDrain).
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

// ---- coalesced writes -----------------------------------------------------------------------

/** A socket with more than this staged is written at once (so writableNeedDrain can tell). */
var MAX_STAGED = 65536;
/** Sockets with packets staged in this turn (in `mqttinyOut`, one 8-bit string each). */
var pending: any[] = [], queued = false;

/** Writes what `s` has staged, as one write. */
function out(s: any) {
  var x = s.mqttinyOut;
  s.mqttinyOut = "";
  if (x && !s.destroyed) s.write(x, "latin1");
}

/** The end of the turn: every socket's staged bytes go out. */
function turnEnd() {
  var l = pending, i;
  queued = false;
  pending = [];
  for (i = 0; i < l.length; i++) out(l[i]);
}

function stage(s: any, b: string): boolean {
  if (!s.mqttinyOut) {
    s.mqttinyOut = "";
    pending.push(s);
  }
  s.mqttinyOut += b;
  if (s.mqttinyOut.length > MAX_STAGED) out(s);
  if (!queued) {
    queued = true;
    // After the I/O callbacks of this loop iteration: a read of PUBACKs and a read of PUBLISHes
    // on two sockets cost one write each, whichever order they come in.
    setImmediate(turnEnd);
  }
  return !s.writableNeedDrain;
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

/** The Node platform; `coalesce`: writes staged and written once per turn (see above). */
export function nodePlatform(g: NodeEnv, tick: number, coalesce?: boolean): Platform {
  return {
    _open: function (c: SocketSink, host: string, port: number, tls: any) {
      var s: any, o: any = { host: host, port: port }, k: any;
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
      return coalesce ? stage(s, b) : s.write(b, "latin1");
    },
    _close: function (s: any, fl?: boolean) {
      if (s.mqttinyOut) out(s);
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
declare var setImmediate: any;
