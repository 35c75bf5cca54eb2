// The session: one connection state machine for every target. QoS 0 and 1, an outbox of encoded
// packets in one fixed ring, keepalive, reconnect with backoff, subscriptions and dispatch.
// Everything time-based runs from one tick; events are dispatched synchronously by the client
// itself (Espruino's emit is asynchronous and would run handlers after the PUBACK).
import { Err } from "./errors";
import { T } from "./codec/packet";
import { encodeConnect, ConnectFields } from "./codec/connect";
import { encodeAck, encodeEmpty, encodePublish, publishIdOffset, publishSize } from "./codec/publish";
import { encodeSubscribe } from "./codec/subscribe";
import { badFilter, matches } from "./codec/topic";
import { strBytes } from "./codec/strings";
import { createDecoder, Decoder, feed, resetDecoder, St } from "./codec/decoder";
import { Platform, SocketSink } from "./platform/types";

/** Connection states. */
const enum S {
  /** No socket; waiting for the reconnect time (or for reconnect() when it is off). */
  Offline = 0,
  /** Socket opening. */
  Opening = 1,
  /** CONNECT sent, waiting for CONNACK. */
  Connack = 2,
  Connected = 3,
  Ended = 4,
}

/** Outbox slot flags. */
const enum F {
  Qos1 = 1,
  /** On the wire in this connection, waiting for PUBACK (QoS 1). */
  Sent = 2,
  /** Acknowledged or written (QoS 0): the slot is free once it reaches the head. */
  Done = 4,
  /** Written in an earlier connection: resent with DUP in a resumed session, renumbered in a new one. */
  Was = 8,
}

export interface Options {
  host?: string;
  port?: number;
  protocol?: string;
  clientId?: string;
  username?: string;
  password?: any;
  keepalive?: number;
  clean?: boolean;
  will?: { topic: string; payload?: any; qos?: number; retain?: boolean };
  reconnectPeriod?: number;
  reconnectMax?: number;
  connectTimeout?: number;
  tls?: any;
  /** Receive buffer bytes: the largest packet received whole. */
  rxSize?: number;
  /** Outbox bytes: encoded publishes waiting to be sent or acknowledged. */
  outboxSize?: number;
  /** Most publishes the outbox holds at once. */
  queueSize?: number;
  /** Most QoS 1 publishes unacknowledged on the wire. */
  inflight?: number;
}

/** A subscribe or unsubscribe request: the unit acknowledged by one SUBACK or UNSUBACK. */
interface Req {
  _f: string[];
  /** QoS per filter; null for an unsubscribe. */
  _q: number[] | null;
  _cb: any;
  /** Packet id while waiting for the ack; 0 while not sent on this connection. */
  _id: number;
}

/** A subscription the client holds: made again when the broker lost the session. */
interface Sub {
  _f: string;
  _q: number;
  _h: any;
}

/** Our code for something thrown by the platform: its own when it carries one of ours. */
function codeOf(x: any): number {
  return x && x.code > 300 ? x.code : Err.Socket;
}

function err(code: number, cause?: any): any {
  var e: any = new Error("mqttiny error " + code);
  e.code = code;
  if (cause !== undefined) e.errno = cause;
  return e;
}

export class Client implements SocketSink {
  stats = { sent: 0, acked: 0, resent: 0, received: 0, skipped: 0, ignored: 0, reconnects: 0, errors: 0 };
  connected = false;
  _o: Options;
  _p: Platform;
  _ev: any = {};
  _st = S.Offline;
  _sock: any = null;
  _dec: Decoder;
  /** Scratch for acks, pings and DISCONNECT. */
  _tx = new Uint8Array(4);
  /** CONNECT, encoded once. */
  _cn: Uint8Array;
  _cnl: number;
  /** Socket can take more (no drain pending). */
  _wr = false;
  /** Monotonic ms, advanced by clamped steps of the platform clock. */
  _now = 0;
  _last: number;
  _ls = 0;
  _lr = 0;
  _ping = 0;
  /** Connection attempt start; reconnect due time. */
  _cs = 0;
  _due = 0;
  _bo = 0;
  _timer: any;
  _ending = false;
  /** Inside _lost's listeners. */
  _losing = false;
  _ecb: any = null;
  _es = 0;
  _pid = 0;
  _reqs: Req[] = [];
  _subs: Sub[] = [];
  _pk = { qos: 0, retain: false, dup: false };

  // The outbox: a ring of encoded PUBLISH packets in `_ob`, described by parallel slot arrays.
  _ob: Uint8Array;
  _qs!: Int32Array;
  _ql!: Int32Array;
  _qi!: Uint16Array;
  _qf!: Uint8Array;
  _qc!: any[];
  _qh = 0;
  _qn = 0;
  /** Byte end of the newest entry. */
  _bt = 0;
  /** QoS 1 publishes on the wire without PUBACK. */
  _nf = 0;
  _busy = false;

  constructor(o: Options, p: Platform) {
    this._o = o;
    this._p = p;
    var n = o.queueSize as number, self = this;
    this._dec = createDecoder(p._alloc(o.rxSize as number), function (d) {
      self._packet(d);
    });
    if (__QOS1__) {
      this._ob = new Uint8Array(o.outboxSize as number);
      this._qs = new Int32Array(n);
      this._ql = new Int32Array(n);
      this._qi = new Uint16Array(n);
      this._qf = new Uint8Array(n);
      this._qc = new Array(n);
    } else this._ob = new Uint8Array(o.outboxSize as number);
    var w = o.will, c: ConnectFields = {
      clientId: o.clientId as string,
      clean: o.clean as boolean,
      keepalive: o.keepalive as number,
      will: w && { topic: w.topic, payload: payloadOf(w.payload), qos: w.qos, retain: w.retain },
      username: o.username,
      password: payloadOf(o.password),
    };
    for (var size = 64; ; size *= 4) {
      this._cn = new Uint8Array(size);
      this._cnl = encodeConnect(this._cn, 0, c);
      if (this._cnl != -Err.NoRoom) break;
    }
    if (this._cnl < 0) throw err(-this._cnl);
    this._last = p._g._now();
    this._timer = p._g._setInterval(function () {
      self._tick();
    }, p._tick);
    p._g._setTimeout(function () {
      if (self._st == S.Offline && !self._bo) self._open();
    }, 0);
  }

  // ---- events -------------------------------------------------------------------------------

  on(ev: string, fn: any): this {
    (this._ev[ev] || (this._ev[ev] = [])).push(fn);
    return this;
  }

  removeListener(ev: string, fn: any): this {
    var l = this._ev[ev], i = l ? l.indexOf(fn) : -1;
    if (i >= 0) l.splice(i, 1);
    return this;
  }

  off(ev: string, fn: any): this {
    return this.removeListener(ev, fn);
  }

  /** Calls listeners now, in order; a listener that throws is reported as `error` (code 317). */
  _emit(ev: string, a?: any, b?: any, c?: any): void {
    var l = this._ev[ev];
    if (l)
      for (var i = 0; i < l.length; i++) {
        try {
          l[i].call(this, a, b, c);
        } catch (x) {
          if (ev != "error") this._error(Err.Handler, x);
        }
      }
  }

  _error(code: number, cause?: any): void {
    this.stats.errors++;
    this._emit("error", err(code, cause));
  }

  /** Calls an application callback, reporting a throw as `error`. */
  _call(cb: any, code: number, a?: any): void {
    if (cb)
      try {
        cb.call(this, code ? err(code) : null, a);
      } catch (x) {
        this._error(Err.Handler, x);
      }
  }

  // ---- time ---------------------------------------------------------------------------------

  /**
   * The single timer. Time advances by the platform clock's step, clamped to [0, 10 ticks]: a
   * clock set back stalls nothing and one set forward by hours fires nothing early.
   */
  _tick(): void {
    var p = this._p, t = p._g._now(), d = t - this._last, o = this._o, now;
    this._last = t;
    now = this._now += d >= 0 && d <= 10 * p._tick ? d : p._tick;
    var st = this._st;
    if (st == S.Offline) {
      if (this._due && now >= this._due) this._open();
    } else if (st == S.Opening || st == S.Connack) {
      if (now - this._cs >= (o.connectTimeout as number)) this._drop(Err.ConnectTimeout);
    } else if (st == S.Connected) {
      var k = (o.keepalive as number) * 1000;
      if (this._ping) {
        // Half the keepalive less two ticks: a dead link is noticed within 1.5 x keepalive.
        if (now - this._ping >= Math.max(p._tick, k / 2 - 2 * p._tick)) this._drop(Err.PingTimeout);
      } else if (k && (now - this._ls >= k || now - this._lr >= k)) {
        this._ping = now;
        this._ctl(encodeEmpty(this._tx, 0, T.PINGREQ));
      }
      if (this._ending && (!this._pending() || now - this._es >= (o.connectTimeout as number))) this._finish();
    }
  }

  // ---- connection ---------------------------------------------------------------------------

  _open(): void {
    var o = this._o;
    if (this._bo) {
      this.stats.reconnects++;
      this._emit("reconnect");
    }
    this._st = S.Opening;
    this._cs = this._now;
    this._due = 0;
    this._wr = false;
    try {
      this._sock = this._p._open(this, o.host as string, o.port as number, o.tls);
    } catch (x) {
      this._sock = null;
      this._lost(codeOf(x), x);
    }
  }

  _opened(s: any): void {
    if (s != this._sock || this._st != S.Opening) return;
    resetDecoder(this._dec);
    this._st = S.Connack;
    this._wr = true;
    this._lr = this._ls = this._now;
    this._ping = 0;
    this._out(this._cn, 0, this._cnl); // [MQTT-3.1.0-1]: CONNECT first
  }

  _data(s: any, c: Uint8Array | string): void {
    if (s != this._sock) return;
    var r = feed(this._dec, c, 0, c.length);
    if (r) this._drop(r);
  }

  _drain(s: any): void {
    if (s != this._sock) return;
    this._wr = true;
    this._pump();
  }

  _closed(s: any, code: number, errno?: any): void {
    if (s != this._sock) return;
    this._sock = null;
    this._lost(code, errno);
  }

  /** Closes the connection because of `code` (a protocol error, a timeout) and reconnects. */
  _drop(code: number, cause?: any): void {
    var s = this._sock;
    this._sock = null;
    if (s)
      try {
        this._p._close(s);
      } catch (x) {}
    this._lost(code, cause);
  }

  /** The connection is gone: report, keep the outbox for the next one, schedule a reconnect. */
  _lost(code: number, cause?: any): void {
    var was = this._st, o = this._o, p = this._o.reconnectPeriod as number;
    if (was == S.Ended) return;
    this._dec._st = St.Dead;
    this._st = S.Offline;
    this.connected = false;
    this._nf = 0;
    if (__QOS1__)
      for (var i = 0; i < this._qn; i++) {
        var j = (this._qh + i) % this._qf.length;
        if (this._qf[j] & F.Sent) this._qf[j] = F.Qos1 | F.Was;
      }
    // A refused identity or credentials wait the longest step; a refused protocol waits for
    // reconnect() [CONNACK 1]; anything else backs off exponentially with jitter. Scheduled
    // before the listeners run, so a reconnect() from a `close` listener resets it.
    var d =
      code == Err.RefusedProtocol || !p
        ? 0
        : code == Err.RefusedIdentifier || code == Err.RefusedCredentials || code == Err.RefusedNotAuthorized
        ? (o.reconnectMax as number)
        : Math.min(o.reconnectMax as number, p * Math.pow(2, Math.min(this._bo, 16)));
    this._bo++;
    this._due = d ? this._now + Math.max(1, d / 2 + this._p._rand() * (d / 2)) : 0;
    // An end() from one of these listeners finishes after them: `close` comes before `end`.
    this._losing = true;
    if (code) this._error(code, cause);
    this._emit("close");
    if (was == S.Connected) this._emit("offline");
    this._losing = false;
    if (this._ending) this._finish();
  }

  /** Try now (e.g. when Wi-Fi comes back), with the backoff reset. Ignored after end(). */
  reconnect(): this {
    // Also while end() waits for the outbox: dropping the link would end the client, and the
    // attempt after it would connect an ended client that no timer watches any more.
    if (this._ending || this._st == S.Ended) return this;
    if (this._st != S.Offline) this._drop(0);
    this._bo = 1;
    this._open();
    this._bo = 0;
    return this;
  }

  /** Writes bytes a..e of `b` now, whatever the back-pressure (the pump checks it first). */
  _out(b: Uint8Array, a: number, e: number): boolean {
    var s = this._sock;
    if (!s) return false;
    try {
      if (!this._p._write(s, b, a, e)) this._wr = false;
      this._ls = this._now;
      return true;
    } catch (x) {
      this._drop(codeOf(x), x);
      return false;
    }
  }

  _ctl(n: number): void {
    this._out(this._tx, 0, n);
  }

  // ---- incoming -----------------------------------------------------------------------------

  _packet(d: Decoder): void {
    var t = d._type, st = this._st, id = d._id, pinged = this._ping;
    this._lr = this._now;
    this._ping = 0;
    if (st == S.Connack) {
      if (t != T.CONNACK) return this._drop(Err.Unexpected); // [MQTT-3.2.0-1]
      var rc = d._d[d._o + 1], sp = d._d[d._o] & 1;
      if (rc) return this._drop(Err.Refused + rc);
      this._st = S.Connected;
      this.connected = true;
      this._bo = 0;
      this._resume(sp);
      // A resend that failed has already closed this connection (and said so with `close`).
      if (this._st == S.Connected) this._emit("connect", { sessionPresent: !!sp, returnCode: 0 });
      return;
    }
    if (st != S.Connected) return;
    if (t == T.CONNACK) return this._drop(Err.Unexpected); // one per connection
    if (t == T.PUBLISH) {
      var q = (d._flags >> 1) & 3;
      if (q > 1) return this._drop(Err.Qos2);
      if (d._big) {
        // Larger than the receive buffer: skipped, but acknowledged so the broker does not
        // redeliver it forever; the connection stays up (departs from [MQTT-4.8.0-2]).
        this.stats.skipped++;
        this._error(Err.Skipped);
      } else {
        var p = this._p, topic = p._topic(d._d, d._ts, d._te), pl = p._payload(d._d, d._ps, d._pe), pk = this._pk;
        if (topic === undefined || pl === undefined) return this._drop(Err.NoMemory);
        this.stats.received++;
        pk.qos = q;
        pk.retain = !!(d._flags & 1);
        pk.dup = !!(d._flags & 8);
        this._emit("message", topic, pl, pk);
        var u = this._subs;
        for (var i = 0; i < u.length; i++)
          if (u[i]._h && matches(u[i]._f, topic))
            try {
              u[i]._h.call(this, topic, pl, pk);
            } catch (x) {
              this._error(Err.Handler, x);
            }
      }
      // Delivered, then acknowledged, in arrival order [MQTT-4.6.0-2]; unhandled ones too [MQTT-4.5.0-2].
      if (q && this._st == S.Connected) this._ctl(encodeAck(this._tx, 0, T.PUBACK, id));
    } else if (t == T.PUBACK && __QOS1__) {
      for (var k = 0; k < this._qn; k++) {
        var s = (this._qh + k) % this._qf.length;
        if (this._qi[s] == id && this._qf[s] & F.Sent) {
          this._qf[s] = F.Done;
          this._nf--;
          this.stats.acked++;
          var cb = this._qc[s];
          this._qc[s] = null;
          this._compact();
          this._call(cb, 0);
          if (this._ending && !this._pending()) return this._finish();
          return this._pump();
        }
      }
      this.stats.ignored++;
    } else if (t == T.SUBACK || t == T.UNSUBACK) {
      this._acked(d, t == T.SUBACK);
    } else if (t != T.PINGRESP || !pinged) this.stats.ignored++;
  }

  /** SUBACK or UNSUBACK: completes the request with that id. */
  _acked(d: Decoder, sub: boolean): void {
    var r = this._reqs, id = d._id;
    for (var i = 0; i < r.length; i++) {
      var q = r[i], g: any = [], bad = 0;
      if (q._id != id || !q._q != !sub) continue;
      if (sub) {
        if (d._pe - d._ps != q._f.length) return this._drop(Err.SubackCount);
        for (var j = 0; j < q._f.length; j++) {
          var c = d._d[d._ps + j];
          g.push({ topic: q._f[j], qos: c });
          // A refused filter is not kept: no handler for it, not made again after a reconnect.
          if (c == 0x80) {
            bad++;
            this._forget(q._f[j]);
          }
        }
      }
      r.splice(i, 1);
      if (bad && !q._cb) this._error(Err.SubscribeRefused);
      this._call(q._cb, bad ? Err.SubscribeRefused : 0, sub ? g : undefined);
      return;
    }
    this.stats.ignored++;
  }

  /**
   * After CONNACK: in a resumed session the unacknowledged publishes are resent first, in order,
   * with DUP=1 and their ids [MQTT-4.4.0-1, MQTT-4.6.0-1]; in a new one they go out as new
   * publishes (new id, DUP=0) [MQTT-3.1.2-6] and every subscription is made again.
   */
  _resume(sp: number): void {
    if (__QOS1__)
      for (var i = 0; i < this._qn; i++) {
        var s = (this._qh + i) % this._qf.length, fl = this._qf[s];
        if (fl & F.Was) {
          var at = this._qs[s];
          if (sp) this._ob[at] |= 8;
          else {
            var io = publishIdOffset(this._ob, at);
            this._qi[s] = 0;
            this._qi[s] = this._nid();
            this._ob[at] &= ~8;
            this._ob[io] = this._qi[s] >> 8;
            this._ob[io + 1] = this._qi[s] & 255;
            this._qf[s] = fl & ~F.Was;
          }
          // Resumed: it keeps the mark, so a resend that never got out before the next drop is
          // still renumbered (and DUP cleared) if that session turns out new.
        }
      }
    this._pump();
    var r = this._reqs, u = this._subs, f: string[] = [], qs: number[] = [];
    if (!sp) {
      for (var k = 0; k < u.length; k++) {
        // A filter whose own SUBSCRIBE is still waiting goes out with it, not twice.
        if (this._asked([u[k]._f], r.length)) continue;
        f.push(u[k]._f);
        qs.push(u[k]._q);
      }
      // Made again as one request nobody waits for; the ones the app waits for follow.
      if (f.length) r.unshift({ _f: f, _q: qs, _cb: null, _id: 0 });
    }
    for (var j = 0; j < r.length; j++) {
      var q = r[j];
      if (!q._q && !sp && !this._asked(q._f, j)) {
        // The broker has no session, so nothing to unsubscribe from (unless a SUBSCRIBE just
        // sent before it made the filter again).
        r.splice(j--, 1);
        this._call(q._cb, 0);
      } else this._req(q);
    }
  }

  // ---- outgoing -----------------------------------------------------------------------------

  /** A packet id not in use by the outbox or a pending request [MQTT-2.3.1-2]. */
  _nid(): number {
    for (;;) {
      var id = (this._pid = (this._pid % 65535) + 1), used = false, i;
      if (__QOS1__)
        for (i = 0; i < this._qn && !used; i++) {
          var s = (this._qh + i) % this._qf.length;
          used = this._qi[s] == id && !(this._qf[s] & F.Done);
        }
      for (i = 0; i < this._reqs.length && !used; i++) used = this._reqs[i]._id == id;
      if (!used) return id;
    }
  }

  /** Slots that still need the wire or an ack (what end() waits for). */
  _pending(): number {
    return __QOS1__ ? this._qn : 0;
  }

  /** Frees slots at the head that are done. */
  _compact(): void {
    var f = this._qf;
    while (this._qn && f[this._qh] & F.Done) {
      this._qh = (this._qh + 1) % f.length;
      if (!--this._qn) this._bt = 0;
    }
  }

  /** Start of `n` free bytes in the outbox ring, or -1. Entries stay in order; a tail that does not fit wraps to 0. */
  _room(n: number): number {
    if (this._qn == this._qf.length) return -1;
    if (!this._qn) return n <= this._ob.length ? 0 : -1;
    var h = this._qs[this._qh], t = this._bt;
    // Up to the head's first byte is free: the count of entries, not a gap, tells full from empty.
    if (t > h) return t + n <= this._ob.length ? t : n <= h ? 0 : -1;
    return t + n <= h ? t : -1;
  }

  /** Writes what the outbox holds, in order, within the in-flight window and the socket's pace. */
  _pump(): void {
    if (!__QOS1__ || this._busy) return;
    this._busy = true;
    var f = this._qf, o = this._o;
    for (var i = 0; i < this._qn && this._wr && this._st == S.Connected; i++) {
      var s = (this._qh + i) % f.length;
      if (f[s] & (F.Sent | F.Done)) continue;
      if (f[s] & F.Qos1 && this._nf >= (o.inflight as number)) break;
      var at = this._qs[s];
      if (!this._out(this._ob, at, at + this._ql[s])) break;
      this.stats.sent++;
      if (this._ob[at] & 8) this.stats.resent++;
      if (f[s] & F.Qos1) {
        f[s] |= F.Sent;
        this._nf++;
      } else {
        // Its slot is freed before its callback runs, so a publish from the callback finds room;
        // `i` follows the head that compacting moved.
        f[s] = F.Done;
        var cb = this._qc[s], n = this._qn;
        this._qc[s] = null;
        this._compact();
        i -= n - this._qn;
        this._call(cb, 0);
      }
    }
    this._compact();
    this._busy = false;
    if (this._ending && !this._pending() && this._st == S.Connected) this._finish();
  }

  /**
   * Publishes `payload` (string, Uint8Array or ArrayBuffer) to `topic`. Returns at once; `cb(err)`
   * fires when a QoS 0 message is written or a QoS 1 message is acknowledged, or with a coded
   * error when it cannot be sent (nothing is sent then).
   */
  publish(topic: string, payload: any, opts?: any, cb?: any): this {
    if (typeof opts == "function") {
      cb = opts;
      opts = null;
    }
    var q = (opts && opts.qos) || 0, rt = !!(opts && opts.retain), pl = payloadOf(payload), n;
    n =
      this._ending || this._st == S.Ended
        ? -Err.Ended
        : q !== 0 && (q !== 1 || !__QOS1__)
        ? -Err.Qos
        : pl === undefined || typeof topic != "string"
        ? -Err.Options
        : publishSize(topic, pl, q);
    if (n >= 0 && n > this._ob.length) n = -Err.TooBig;
    if (__QOS1__) {
      var at = n < 0 ? n : this._room(n);
      if (at < 0) {
        this._fail(cb, n < 0 ? -n : Err.Full);
        return this;
      }
      var s = (this._qh + this._qn) % this._qf.length, id = q ? this._nid() : 0;
      encodePublish(this._ob, at, topic, pl, q, rt, false, id);
      this._qs[s] = at;
      this._ql[s] = n;
      this._qi[s] = id;
      this._qf[s] = q ? F.Qos1 : 0;
      this._qc[s] = cb;
      this._qn++;
      this._bt = at + n;
      this._pump();
    } else {
      // No outbox: written now or refused.
      if (n >= 0 && this._st != S.Connected) n = -Err.Full;
      if (n < 0) this._fail(cb, -n);
      else {
        encodePublish(this._ob, 0, topic, pl, 0, rt, false, 0);
        if (this._out(this._ob, 0, n)) {
          this.stats.sent++;
          this._call(cb, 0);
        } else this._fail(cb, Err.Socket);
      }
    }
    return this;
  }

  /** A coded failure for a callback, or for `error` when the app gave none. */
  _fail(cb: any, code: number): void {
    if (cb) {
      this.stats.errors++;
      this._call(cb, code);
    } else this._error(code);
  }

  // ---- subscriptions ------------------------------------------------------------------------

  /**
   * Subscribes to one filter or an array of filters at `opts.qos` (0 or 1); `opts.handler` gets
   * the messages matching them, besides the `message` event. `cb(err, granted)` on SUBACK.
   */
  subscribe(filters: any, opts?: any, cb?: any): this {
    if (typeof opts == "function") {
      cb = opts;
      opts = null;
    }
    var q = (opts && opts.qos) || 0;
    this._request(filters, q, opts && opts.handler, cb, false);
    return this;
  }

  unsubscribe(filters: any, cb?: any): this {
    this._request(filters, 0, null, cb, true);
    return this;
  }

  _request(filters: any, q: number, h: any, cb: any, u: boolean): void {
    var f: string[] = typeof filters == "string" ? [filters] : filters, code = 0, qs: number[] = [], i;
    if (this._ending || this._st == S.Ended) code = Err.Ended;
    else if (q !== 0 && (q !== 1 || !__QOS1__)) code = Err.Qos;
    else if (!f || !f.length) code = Err.Filter;
    else
      for (i = 0; i < f.length; i++) {
        // Checked here as SUBSCRIBE will encode it (UTF-8, no U+0000, 65,535 bytes at most): a
        // filter that failed only when written would stay in the requests and fail again later.
        var nf = typeof f[i] == "string" ? strBytes(f[i]) : -1;
        if (nf < 1 || nf > 65535 || badFilter(f[i])) code = Err.Filter;
      }
    if (code) return this._fail(cb, code);
    for (i = 0; i < f.length; i++) {
      // Subscribing again to a filter replaces it, as the broker does [MQTT-3.8.4-3].
      this._forget(f[i]);
      if (!u) this._subs.push({ _f: f[i], _q: q, _h: h });
      qs.push(q);
    }
    var r: Req = { _f: f.slice(), _q: u ? null : qs, _cb: cb, _id: 0 };
    if (u && this._o.clean && this._st != S.Connected && !this._asked(f, this._reqs.length)) {
      // A clean session forgets subscriptions with the connection: nothing to tell the broker
      // (unless a SUBSCRIBE still waiting to go out would make the filter again).
      this._call(cb, 0);
      return;
    }
    this._reqs.push(r);
    if (this._st == S.Connected) this._req(r);
  }

  _forget(f: string): void {
    var u = this._subs;
    for (var i = u.length - 1; i >= 0; i--) if (u[i]._f == f) u.splice(i, 1);
  }

  /** Whether one of the first `n` pending requests subscribes to one of the filters `f`. */
  _asked(f: string[], n: number): boolean {
    for (var i = 0; i < n; i++) for (var j = 0; j < f.length; j++) if (this._reqs[i]._q && this._reqs[i]._f.indexOf(f[j]) >= 0) return true;
    return false;
  }

  /** Encodes and sends a request with a fresh id. */
  _req(r: Req): void {
    var n = 7, i;
    for (i = 0; i < r._f.length; i++) n += 3 + 3 * r._f[i].length;
    var b = new Uint8Array(n);
    r._id = 0;
    r._id = this._nid();
    n = encodeSubscribe(b, 0, r._id, r._f, r._q);
    if (n < 0) return this._fail(r._cb, -n);
    this._out(b, 0, n);
  }

  // ---- end ----------------------------------------------------------------------------------

  /**
   * Stops new publishes; unless `force`, waits (at most connectTimeout) for the outbox to drain;
   * then DISCONNECT [MQTT-3.14.4-1, -2], close, `close` and `end` events, then `cb`.
   */
  end(force?: any, cb?: any): this {
    if (typeof force == "function") {
      cb = force;
      force = false;
    }
    if (this._st == S.Ended) {
      this._call(cb, 0);
      return this;
    }
    this._ecb = cb;
    this._ending = true;
    this._es = this._now;
    if ((force || this._st != S.Connected || !this._pending()) && !this._losing) this._finish();
    return this;
  }

  _finish(): void {
    if (this._st == S.Ended) return;
    var s = this._sock, was = this._st, i;
    this._sock = null;
    this._st = S.Ended;
    this.connected = false;
    this._p._g._clearInterval(this._timer);
    if (s) {
      if (was == S.Connected) {
        var n = encodeEmpty(this._tx, 0, T.DISCONNECT);
        try {
          this._p._write(s, this._tx, 0, n);
        } catch (x) {}
      }
      try {
        this._p._close(s, was == S.Connected);
      } catch (x) {}
    }
    // Whatever could not be sent is failed, never dropped silently.
    if (__QOS1__)
      for (i = 0; i < this._qn; i++) {
        var k = (this._qh + i) % this._qf.length, cb = this._qc[k];
        this._qc[k] = null;
        if (!(this._qf[k] & F.Done)) this._call(cb, Err.Ended);
      }
    this._qn = 0;
    var r = this._reqs;
    this._reqs = [];
    for (i = 0; i < r.length; i++) this._call(r[i]._cb, Err.Ended);
    this._subs = [];
    if (s) this._emit("close");
    if (was == S.Connected) this._emit("offline");
    this._emit("end");
    this._call(this._ecb, 0);
  }
}

/** A payload as the codec takes it; undefined for a type it cannot send. */
export function payloadOf(p: any): any {
  return p == null ? p : typeof p == "string" || p instanceof Uint8Array ? p : p instanceof ArrayBuffer ? new Uint8Array(p) : undefined;
}
