// Node-only additions to the client, applied by src/full.ts on the node target (never built for a
// board: src/pieces/ is for pieces a board may load). What a Node process wants differs from what
// a board wants: memory on demand instead of fixed buffers, bursts accepted, errors in words.
//
// - An outbox that grows (when options.outboxMax > outboxSize, as the node target's defaults
//   have it): empty until the first publish, then outboxSize bytes, doubled on demand up to
//   outboxMax; given back (or shrunk) once it has been idle for a while. queueSize stays the cap
//   on the number of publishes.
// - A shared receive buffer (options.rxShared): every client decodes a chunk's packets in place;
//   a packet that spans chunks is assembled in one process-wide buffer of rxSize during the data
//   event, and a client keeps a buffer of its own only while such a packet is incomplete.
// - `drain`: after a publish was refused with 107, emitted once the outbox is at most half full.
// - Errors in words (src/node/errors.ts).
import { Err } from "../errors";
import { St } from "../codec/decoder";
import { nodeError } from "./errors";

declare var Buffer: any;

/** The outbox of a client that holds none (shared: never written, its length is 0). */
var EMPTY = new Uint8Array(0);
/** Receive buffers shared by every client, by size. */
var shared: any = {};
/** A shared receive buffer is being used by a data event (one nested in it takes its own). */
var rxBusy = false;
/** ms between checks of an outbox for idleness; idle for a whole period: given back. */
export var IDLE_MS = 1000;

// ---- the outbox -----------------------------------------------------------------------------

/** Bytes the entry for this publish takes at most (state byte, header, body); 0: not ours to judge. */
function bound(topic: any, p: any): number {
  var n = p == null ? 0 : typeof p == "string" ? p.length * 3 : p.byteLength;
  return typeof topic == "string" && n >= 0 ? topic.length * 3 + n + 10 : 0;
}

/** A buffer of `size` bytes holding the entries, moved to its front. */
function move(c: any, size: number) {
  var b = new Uint8Array(size), o = c._ob;
  b.set(o.subarray(c._oh, c._ot));
  c._ot -= c._oh;
  c._oh = 0;
  c._ob = b;
}

/** Makes room for an entry of at most `n` bytes, up to outboxMax. */
function grow(c: any, n: number) {
  var o = c._opts, b = c._ob, live = c._ot - c._oh, size = Math.max(b.length * 2, o.outboxSize), s = c._sk;
  while (size < live + n) size *= 2;
  size = Math.min(size, o.outboxMax);
  if (size <= b.length) return;
  if (!b.length) {
    // The first buffer since the last was given back: watch it for idleness.
    var t = c._plat._g._setInterval(function () {
      idle(c, t);
    }, IDLE_MS);
    if (t && t.unref) t.unref();
  }
  move(c, size);
  // The core may be writing the entries from the old buffer right now (a publish from a QoS 0
  // callback inside its pump): it stops at its next step when the socket is not writable, and
  // goes on from the new buffer at the end of this turn. (The core's pump also restarts from the
  // head when the outbox it writes from was replaced.)
  if (c._writable && s) {
    c._writable = false;
    process.nextTick(function () {
      if (c._sk === s && !c._writable && !s.writableNeedDrain) c._io(s, 2);
    });
  }
}

/** Every IDLE_MS: an outbox unused for a whole period is given back when empty, shrunk when mostly free. */
function idle(c: any, t: any) {
  var b = c._ob, live = c._ot - c._oh, o = c._opts, size;
  if (c._used) c._used = false;
  else if (!live) {
    c._ob = EMPTY;
    c._oh = c._ot = 0;
    c._plat._g._clearInterval(t);
  } else if (live * 4 <= b.length && b.length > o.outboxSize) {
    for (size = o.outboxSize; size < live * 2; ) size *= 2;
    if (size < b.length) move(c, size);
  }
}

/** Whether a client refused with 107 may publish again: the outbox at most half full. */
function room(c: any): boolean {
  var o = c._opts;
  return c._on * 2 <= o.queueSize && (c._ot - c._oh) * 2 <= (o.outboxMax > o.outboxSize ? o.outboxMax : c._ob.length);
}

// ---- the receive buffer ---------------------------------------------------------------------

function sharedBuf(n: number) {
  return shared[n] || (shared[n] = Buffer.allocUnsafeSlow(n));
}

/** Data `x` for a client whose receive buffer is shared: `io` is the core's _io. */
function rx(c: any, io: any, s: any, x: any) {
  var n = c._opts.rxSize, sh = sharedBuf(n), k;
  if (c._buf !== sh && c._st == St.Body) {
    // A packet that spans chunks is being collected in the client's own buffer: complete it
    // there, then go on with the shared one.
    k = c._need - c._n;
    io.call(c, s, 1, x.length <= k ? x : x.subarray(0, k));
    if (c._st == St.Body) return;
    c._buf = sh;
    if (x.length <= k) return;
    x = x.subarray(k);
  }
  if (rxBusy) c._buf = Buffer.allocUnsafe(n);
  else {
    c._buf = sh;
    rxBusy = true;
  }
  try {
    io.call(c, s, 1, x);
  } finally {
    if (c._buf === sh) rxBusy = false;
  }
  if (c._st == St.Body) {
    // Incomplete at the end of the chunk: what was collected moves to a buffer of its own, of the
    // size of what is collected (at most rxSize, so the broker cannot make it larger).
    if (c._buf === sh) {
      c._buf = Buffer.allocUnsafe(c._need);
      sh.copy(c._buf, 0, 0, c._n);
    }
  } else c._buf = sh;
}

// ---- applied to the prototype ---------------------------------------------------------------

export function nodeClient(P: any) {
  var init = P._init, publish = P.publish, io = P._io, fail = P._fail;
  P._errorOf = nodeError;
  P._init = function (o: any, p: any) {
    // Each queued QoS 1 publish holds a packet id: at most 65,535 of them exist.
    if (o.queueSize > 65000) o.queueSize = 65000;
    init.call(this, o, p);
    if (o.outboxMax > o.outboxSize) {
      this._ob = EMPTY;
      this._oh = this._ot = 0;
    }
    if (o.rxShared) this._buf = sharedBuf(o.rxSize);
  };
  P.publish = function (topic: any, payload: any, opts?: any, cb?: any) {
    var c = this, o = c._opts, b = c._ob, n;
    if (o.outboxMax > o.outboxSize) {
      c._used = true;
      n = bound(topic, payload);
      if (n && c._ot - c._oh + n > b.length && b.length < o.outboxMax) grow(c, n);
    }
    return publish.call(c, topic, payload, opts, cb);
  };
  P._fail = function (cb: any, code: number) {
    if (code == Err.Full) this._refused = true;
    fail.call(this, cb, code);
  };
  P._io = function (s: any, ev: number, x?: any, errno?: any) {
    var c = this;
    if (ev == 0) c._sk = s;
    else if (ev == 3 && s === c._sk) c._sk = null;
    if (ev == 1 && c._opts.rxShared) rx(c, io, s, x);
    else io.call(c, s, ev, x, errno);
    if (c._refused && room(c)) {
      c._refused = false;
      c._emit("drain");
    }
  };
}

declare var process: any;
