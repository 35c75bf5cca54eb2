// Node-only additions to the client, applied by src/full.ts on the node target (never built for a
// board: src/pieces/ is for pieces a board may load). What a Node process wants differs from what
// a board wants: memory on demand instead of fixed buffers, bursts accepted, errors in words.
//
// - An outbox of up to outboxMax bytes (when above outboxSize, as the node target's defaults
//   have it): its entries take memory as publishes come and give it back once acknowledged.
//   queueSize stays the cap on the number of publishes.
// - `drain`: after a publish was refused with 107, emitted once the outbox is at most half full.
// - Errors in words (src/node/errors.ts).
import { Err } from "../errors";
import { Ev } from "../client";
import { nodeError } from "./errors";

// ---- the outbox -----------------------------------------------------------------------------

/** Whether a client refused with 107 may publish again: the outbox at most half full. */
function room(c: any): boolean {
  return c._on * 2 <= c._qs && c._qn * 2 <= c._ob;
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
    return init.call(this, o, p);
  };
  P._fail = function (cb: any, code: number, cause?: any) {
    if (code == Err.Full) this._refused = true;
    fail.call(this, cb, code, cause);
  };
  P._io = function (s: any, ev: number, x?: any, errno?: any) {
    var c = this;
    if (ev == 0) c._sk = s;
    else if (ev == 3 && s === c._sk) c._sk = null;
    io.call(c, s, ev, x, errno);
    if (c._refused && room(c)) {
      c._refused = false;
      c._emit(Ev.Drain);
    }
  };
}

declare var process: any;
