// The Node adapter: net/tls sockets with Buffer chunks (decoded in place when a packet lies in one
// chunk), back-pressure from write()'s result and `drain`. TLS verifies the server by default.
//
// Writes can be coalesced (`coalesce`, as the node target has it): the packets a client writes
// during one turn of the event loop are copied into a staging slab shared by the process and
// handed to the socket as one write at the end of the turn (process.nextTick), or sooner when
// another socket writes, the slab is full or the socket is closed. So a chunk of PUBACKs that
// releases a window of publishes costs one system call, not one per packet. `_write` still
// returns false when the socket wants a `drain` (writableNeedDrain).
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

// ---- coalesced writes -----------------------------------------------------------------------

/** Bytes per staging slab; a packet over a quarter of it is written on its own. */
var SLAB = 65536;
/** The slab; the staged bytes [start, end) belong to `owner`, the socket they are for. */
var slab: any = null, start = 0, end = 0, owner: any = null, queued = false;

/** Hands the staged bytes to their socket (the slab part goes with them: never written again). */
function flush() {
  var s = owner;
  if (!s) return;
  owner = null;
  if (end > start && !s.destroyed) s.write(slab.subarray(start, end));
  start = end;
}

function turnEnd() {
  queued = false;
  flush();
}

function stage(s: any, b: Uint8Array, a: number, e: number): boolean {
  var n = e - a, i;
  if (owner !== s) flush();
  if (n > SLAB / 4) {
    flush();
    s.write(Buffer.from(b.subarray(a, e)));
  } else {
    if (!slab || end + n > slab.length) {
      flush();
      slab = Buffer.allocUnsafeSlow(SLAB);
      start = end = 0;
    }
    owner = s;
    // Acks and small packets byte by byte: cheaper than a subarray.
    if (n <= 64) for (i = a; i < e; i++) slab[end++] = b[i];
    else {
      slab.set(b.subarray(a, e), end);
      end += n;
    }
    if (!queued) {
      queued = true;
      process.nextTick(turnEnd);
    }
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
function onData(this: any, d: Uint8Array) {
  this.mqttiny._io(this, Io.Data, d);
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
      s.on(tls ? "secureConnect" : "connect", onOpen);
      s.on("data", onData);
      s.on("drain", onDrain);
      s.on("error", onError);
      s.on("close", onClose);
      return s;
    },
    _write: function (s: any, b: Uint8Array, a: number, e: number) {
      if (coalesce) return stage(s, b, a, e);
      // A copy: the socket may hold on to what it is given until it is flushed.
      return s.write(Buffer.from(b.subarray(a, e)));
    },
    _close: function (s: any, fl?: boolean) {
      if (owner === s) flush();
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
declare var process: any;
