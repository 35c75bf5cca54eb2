// mqttiny-stats: `client.stats`, counters of what the client did: publishes sent (and resent with
// DUP), acknowledged, received, skipped (oversize), ignored (acks for nothing, unasked PINGRESP),
// reconnects and errors (events and failed callbacks).
import { Err } from "../errors";
import { T } from "../codec/packet";
import { Ev, S } from "../client";

function counters(c: any) {
  return (c.stats = c.stats || { sent: 0, acked: 0, resent: 0, received: 0, skipped: 0, ignored: 0, reconnects: 0, errors: 0 });
}

export function stats(P: any) {
  var init = P._init, emit = P._emit, fail = P._fail, out = P._out, packet = P._packet;
  P._init = function (o: any, p: any) {
    counters(this);
    return init.call(this, o, p);
  };
  P._emit = function (ev: string, a?: any, b?: any, x?: any) {
    var s = counters(this);
    if (ev === Ev.Message) s.received++;
    else if (ev === Ev.Reconnect) s.reconnects++;
    else if (ev === Ev.Error) {
      s.errors++;
      if (a.code == Err.Skipped) s.skipped++;
    }
    emit.call(this, ev, a, b, x);
  };
  P._fail = function (cb: any, code: number, a?: any) {
    if (cb && code) counters(this).errors++;
    fail.call(this, cb, code, a);
  };
  P._out = function (b: string) {
    var s = counters(this), r = out.call(this, b), x = b.charCodeAt(0); // packets are 8-bit strings
    if (r && x >> 4 == T.PUBLISH) {
      s.sent++;
      if (x & 8) s.resent++;
    }
    return r;
  };
  P._packet = function () {
    var c = this, s = counters(c), st = c._state, pinged = c._pingAt, t = c._type, r = packet.call(c);
    if (t == T.PINGRESP) {
      if (!pinged) s.ignored++;
    } else if (st != S.Connack && t != T.CONNACK && t != T.PUBLISH) {
      // An ack (or a QoS 2 one, never asked for) is `done` when it completed something.
      if (!r) s.ignored++;
      else if (t == T.PUBACK || (__QOS2__ && t == T.PUBCOMP)) s.acked++;
    }
  };
}
