// Node-only additions to the client, applied by src/full.ts on the node target (never built for a
// board: src/pieces/ is for pieces a board may load). What a Node process wants differs from what
// a board wants: memory on demand instead of fixed buffers, bursts accepted, errors in words.
//
// - An outbox of up to outboxMax bytes (when above outboxSize, as the node target's defaults
//   have it): its entries take memory as publishes come and give it back once acknowledged.
//   queueSize stays the cap on the number of publishes.
// - A shared receive buffer (options.rxShared): every client decodes a chunk's packets in place;
//   a packet that spans chunks is assembled in one process-wide buffer of rxSize during the data
//   event, and a client keeps a buffer of its own only while such a packet is incomplete.
// - `drain`: after a publish was refused with 107, emitted once the outbox is at most half full.
// - Errors in words (src/node/errors.ts).
import { Err } from "../errors";
import { St } from "../codec/decoder";
import { nodeError } from "./errors";

declare var Buffer: any;

/** Receive buffers shared by every client, by size. */
var shared: any = {};
/** A shared receive buffer is being used by a data event (one nested in it takes its own). */
var rxBusy = false;

// ---- the outbox -----------------------------------------------------------------------------

/** Whether a client refused with 107 may publish again: the outbox at most half full. */
function room(c: any): boolean {
  var o = c._opts;
  return c._on * 2 <= o.queueSize && c._qn * 2 <= o.outboxSize;
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
  var init = P._init, io = P._io, fail = P._fail;
  P._errorOf = nodeError;
  P._init = function (o: any, p: any) {
    // Each queued QoS 1 publish holds a packet id: at most 65,535 of them exist.
    if (o.queueSize > 65000) o.queueSize = 65000;
    // The outbox takes memory as publishes come (its entries), up to outboxMax bytes.
    if (o.outboxMax > o.outboxSize) o.outboxSize = o.outboxMax;
    init.call(this, o, p);
    if (o.rxShared) this._buf = sharedBuf(o.rxSize);
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
