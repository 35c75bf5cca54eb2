// The core session: one connection state machine for every target. QoS 0 and 1, a bounded outbox
// of encoded packets (8-bit strings on Espruino, one buffer on Node), keepalive,
// reconnect with backoff, resubscription, strict framing. Everything time-based runs from one
// tick; events are dispatched synchronously by the client itself (Espruino's emit is
// asynchronous and would run handlers after the PUBACK).
//
// A constructor whose prototype holds what the pieces (src/pieces/) wrap, over fields of the
// client object (which is also its own decoder); the rest are plain functions of the client.
// Neither is copied per client, as closures would be on Espruino. An app on a board loads only
// the pieces it wants; the node target has them all.
import { Err } from "./errors";
import { T } from "./codec/packet";
import { publishBody } from "./codec/publish";
import { bytesOf, bytesText, connectText, packetText, subscribeText, u16 } from "./codec/text";
import { payloadOf } from "./codec/strings";
import { Platform } from "./platform/types";

export { payloadOf };

/** Connection states. */
export const enum S {
  /** No socket; waiting for the reconnect time (or for reconnect() when it is off). */
  Offline = 0,
  /** Socket opening. */
  Opening = 1,
  /** CONNECT sent, waiting for CONNACK. */
  Connack = 2,
  Connected = 3,
  Ended = 4,
}

/** The state of an outbox entry (_s; undefined until written, read as 0). */
export const enum F {
  /** On the wire in this connection, waiting for PUBACK (QoS 1). */
  Sent = 1,
  /** Acknowledged, or written (QoS 0): gone once it reaches the head. */
  Done = 2,
  /** Written in an earlier connection: resent with DUP in a resumed session, renumbered in a new one. */
  Was = 4,
  /**
   * QoS 2: PUBREC received. What goes out for it is a PUBREL (again in a resumed session), and the
   * PUBCOMP completes it. A new session sends it as a new PUBLISH.
   */
  Rel = 8,
}

/**
 * The events the client emits, by the key their listeners are kept under: the first four letters
 * of the name (see on()).
 */
export const enum Ev {
  Connect = "conn",
  Message = "mess",
  Error = "erro",
  Close = "clos",
  Offline = "offl",
  Reconnect = "reco",
  End = "end",
  Drain = "drai",
}

/** What the adapter tells the client about its socket (SocketSink._io). */
export const enum Io {
  Opened = 0,
  Data = 1,
  Drain = 2,
  Closed = 3,
}

export interface Options {
  host?: string;
  port?: number;
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
  /** The largest packet body received whole (the most collected of one that spans chunks; nothing is held between packets). */
  rxSize?: number;
  /** Outbox bytes: publishes waiting to be sent or acknowledged, each counted as its packet and a state byte. */
  outboxSize?: number;
  /** Most publishes the outbox holds at once. */
  queueSize?: number;
  /** Most QoS 1 and QoS 2 publishes unacknowledged on the wire. */
  inflight?: number;
  /** QoS 2 targets: most received QoS 2 messages whose ids are held until their PUBREL. */
  qos2Held?: number;
  /**
   * Node: most QoS 2 publishes in flight (within `inflight`). Mosquitto 2 acknowledges a QoS 2
   * PUBLISH beyond its max_inflight_messages (20 by default) and then drops it.
   */
  qos2Inflight?: number;
}

/** A subscribe or unsubscribe request: the unit acknowledged by one SUBACK or UNSUBACK. */
interface Req {
  _f: string[];
  /** QoS per filter; null for an unsubscribe. */
  _q: number[] | null;
  _cb: any;
  /** Packet id while waiting for the ack; 0 while not sent on this connection. */
  _i: number;
}

/** An error as the app sees it: `code` is an Err; `errno` the platform's own code, if any. */
export function mqttError(code: number, cause?: any): any {
  var e: any = Error("mqttiny error " + code);
  e.code = code;
  if (cause !== undefined) e.errno = cause;
  return e;
}

/**
 * The client's type: `new Client()._init(o, p)` makes one over complete options `o` (see api.ts)
 * and platform `p`. Empty, which costs a board nothing (Espruino keeps neither the code nor the
 * scope of an empty function); `_init`, which the pieces wrap, sets it up and returns it.
 */
export function Client() {}

var P: any = Client.prototype;

/** The error a listener or callback gets (the node target may put it in words; not _err, the decoder's error code). */
P._errorOf = mqttError;

P._init = function (o: Options, p: Platform) {
  var c = this;
  // The options the session reads, as integer fields of its own: an options object kept whole
  // costs a board about 37 variables (a long property name takes a second variable), these 9.
  // Small integers where they can be (keepalive in seconds; `| 0`, since the bundle's 1e3 is a
  // fraction to Espruino): one of -1,024 to 1,023 takes one variable on an ESP8266, a larger one
  // or a fraction two.
  c._ka = o.keepalive;
  // (Whole milliseconds, and never past reconnectMax: as `| 0` alone would make 0.5 "off" and
  // 3e9 negative.)
  c._rp = Math.ceil(Math.min(o.reconnectPeriod!, o.reconnectMax!, 1e9)) | 0;
  c._rm = o.reconnectMax;
  c._ct = o.connectTimeout;
  c._rx = o.rxSize;
  c._ob = o.outboxSize;
  c._qs = o.queueSize;
  c._if = o.inflight;
  if (__QOS2__) {
    // The ids of QoS 2 messages delivered and not yet released by PUBREL: a duplicate of one is
    // not delivered again [MQTT-4.3.3-2]. At most qos2Held of them, across reconnects.
    c._hm = o.qos2Held;
    c._held = [];
  }
  c._clean = o.clean ? 1 : 0;
  // What the socket is opened with: on Node the options themselves (they carry the TLS settings),
  // on a board only what the adapter reads.
  c._so = __ESPRUINO__ ? { host: o.host, port: o.port } : o;
  if (__ESPRUINO__ && o.tls) c._so.tls = o.tls;
  c._plat = p;
  c._ev = {};
  c._reqs = [];
  // The outbox: entries (see "the outbox" below) from index _qh (Node; 0 on Espruino, which
  // shift()s the head), _qn bytes in all.
  c._q = [];
  if (!__ESPRUINO__) c._qh = 0;
  c._qn = c._nk = c._on = 0;
  c.connected = false;
  c._state = c._backoff = c._pid = c._now = c._inflight = 0;
  // Node: QoS 2 publishes in flight, and their own cap (see Options.qos2Inflight).
  if (!__ESPRUINO__ && __QOS2__) {
    c._in2 = 0;
    c._i2 = o.qos2Inflight;
  }
  // Due at once: the first tick, on the next turn, opens the connection (unless reconnect() or
  // end() came first).
  c._due = -1;
  c._cn = connectText(o, (p._g as any)._E);
  // Internal flags are 0/1 and an empty buffer 0: on Espruino a property holding an integer is one
  // variable, one holding a boolean, a string or a fraction two.
  c._a = 0;
  c._k = c._w = 0;
  c._last = p._g._now();
  // Module functions with the client as argument: a closure would be copied per client on Espruino.
  c._timer = p._g._setInterval(tick, p._tick, c);
  p._g._setTimeout(tick, 0, c);
  return c;
};

// ---- events ---------------------------------------------------------------------------------

P.on = function (ev: string, fn: any) {
  // Under the first four letters of the event's name (Ev): Espruino keeps a property name of up to
  // four letters in the property's own variable, a longer one in two. One listener is kept as
  // itself, several in an array (an array costs a board two variables).
  var m = this._ev, l = m[(ev = ev.substr(0, 4))];
  m[ev] = !l ? fn : l.push ? (l.push(fn), l) : [l, fn];
  return this;
};

/**
 * Calls the listeners of event `ev` (an Ev key) now, in order, or, when `ev` is a function (a
 * callback, a handler), that function: one function for both, one fewer on a board. What one
 * throws is reported as `error` 317 (but not what an `error` listener throws). On Espruino
 * without the client as `this`: in Espruino 2v29 a listener called with the client as `this`
 * that calls one of the client's methods (a subscribe in a `connect` listener) keeps the client
 * from ever being freed (measured in test/espruino: 700 JsVars per ended client on an ESP32).
 */
P._emit = function (ev: any, a?: any, b?: any, x?: any) {
  // A copy of several: a listener that removes itself must not make the next one skipped. One
  // listener, the common case, is called from the list itself (no array per message on a board).
  // (One added meanwhile is not called in this emit, as with Node's emitters.)
  // (What is not an event's key is called: a callback that is no function is reported as 317.)
  var c = this, l = typeof ev == "string" ? c._ev[ev] : ev, i, n, f;
  if (l)
    for (n = l.push ? l.length : 1, l = n > 1 ? l.slice() : l, i = 0; i < n; i++) {
      f = l.push ? l[i] : l;
      c._in = (c._in || 0) + 1;
      try {
        if (__ESPRUINO__) f(a, b, x);
        else f.call(c, a, b, x);
      } catch (e) {
        if (ev !== Ev.Error) c._fail(0, Err.Handler, e);
      } finally {
        c._in--;
      }
    }
};

/**
 * Calls back `cb` with success (`code` 0: `cb(null, a)`) or a coded error; a failure the app gave
 * no callback for is an `error` event (`a`: the platform's cause, when there is one).
 */
P._fail = function (cb: any, code: number, a?: any) {
  var c = this;
  if (cb) c._emit(cb, code ? c._errorOf(code) : null, a);
  else if (code) c._emit(Ev.Error, c._errorOf(code, a));
};

// ---- time -----------------------------------------------------------------------------------

/**
 * The single timer. Time advances by the platform clock's step, clamped to [0, 10 ticks]: a clock
 * set back stalls nothing and one set forward by hours fires nothing early.
 */
function tick(c: any) {
  var p = c._plat, t = p._g._now(), d = t - c._last, k = c._ka * 1000, st = c._state, now;
  c._last = t;
  // Whole milliseconds (Espruino's clock has fractions): every time field stays an integer, which
  // Espruino keeps in the property's own variable (a fraction takes a second one).
  now = c._now += (d >= 0 && d <= 10 * p._tick ? d : p._tick) | 0;
  if (!st) {
    if (c._due && now >= c._due) open(c);
  } else if (st < S.Connected) {
    if (now - c._recvAt >= c._ct) c._drop(Err.ConnectTimeout);
  } else if (st == S.Connected) {
    // Half the keepalive less two ticks after a PINGREQ: a dead link is noticed within 1.5 x keepalive.
    if (c._pingAt) {
      if (now - c._pingAt >= Math.max(p._tick, k / 2 - 2 * p._tick)) c._drop(Err.PingTimeout);
    } else if (k && (now - c._sentAt >= k || now - c._recvAt >= k)) {
      c._pingAt = now;
      c._out("\xc0\x00"); // PINGREQ
    }
  }
  // A pump cut short by an exception (Espruino stops the code that runs out of memory, finally
  // blocks included) would leave the outbox stalled: a timer never runs inside one, so go on.
  if (c._busy) {
    c._busy = 0;
    pump(c);
  }
  // Also end()'s check deferred to a timer on Espruino, in any state (see end()).
  if (c._ending) c._endCheck();
}

// ---- connection -----------------------------------------------------------------------------

function open(c: any) {
  if (c._backoff) c._emit(Ev.Reconnect);
  // A `reconnect` listener may have ended the client (or opened it already).
  if (c._ending || c._state) return;
  c._state = S.Opening;
  // Until CONNACK, _recvAt is when the attempt began (connectTimeout counts from there): one field
  // fewer per client on a board. The CONNACK sets it, as every packet received does.
  c._recvAt = c._now;
  c._pingAt = c._due = 0;
  c._writable = 0;
  try {
    if (__ESPRUINO__) {
      // On Espruino the client opens its socket itself (an adapter function would cost a board
      // variables), over the board's net or tls, with _io as its one listener for every event.
      var o = c._so, t = o.tls, s: any, k: any;
      if (t) {
        if (!__TLS__) throw { code: Err.NoTls };
        // The TLS settings beside host and port, as tls.connect takes them.
        if (typeof t == "object") for (k in t) o[k] = t[k];
      }
      s = c._sock = c._plat._g._req(__TLS__ && t ? "tls" : "net").connect(o, c._io);
      s._client = c;
      s.on("data", c._io);
      s.on("drain", c._io);
      s.on("error", c._io);
      s.on("close", c._io);
    } else c._sock = c._plat._open(c, c._so);
  } catch (x) {
    c._sock = null;
    // Ours when the adapter threw one of our codes (a TLS option on a board without TLS).
    c._drop(x && (x as any).code > 300 ? (x as any).code : Err.Socket, x);
  }
}

/** The adapter's news of socket `s` (Io); a socket the client has given up on is ignored. */
P._io = function (s: any, ev?: number, x?: any, errno?: any) {
  var c: any = this;
  if (__ESPRUINO__) {
    // The socket's own listener here (an adapter function calling this one would cost a board
    // variables): Espruino calls it with the socket as `this` and what happened as `s`, told apart
    // by what it is: the socket itself (connect's callback and drain: it takes writes), a string
    // (data), {code, message} (error: Espruino's codes -2 out of memory, -13/-14 TLS [source];
    // ours for them) or a boolean (close).
    x = s;
    s = c;
    c = s._client;
    errno = x && x.code;
    ev = x === s ? Io.Opened : typeof x == "string" ? Io.Data : Io.Closed;
    if (ev == Io.Closed) x = typeof x != "object" ? 0 : errno == -2 ? Err.NoMemory : __TLS__ && (errno == -13 || errno == -14) ? Err.Tls : Err.Socket;
  }
  if (s != c._sock) return;
  if (ev == Io.Data) {
    // Not inlined (terser would make it a function expression here, which Espruino builds anew
    // for every chunk: a copy of its code in RAM when the module was loaded as text).
    if ((ev = /*#__NOINLINE__*/ rx(c, x))) c._drop(ev);
  } else if (ev == Io.Closed) {
    c._sock = null;
    c._drop(x || 0, errno); // (never undefined: that would end the client)
  } else if (c._state == S.Opening) {
    // Opened (the Espruino adapter says Opened for drain too: it is one listener there).
    c._state = S.Connack;
    c._writable = 1;
    // (_out notes when it was sent, and the CONNACK, as every packet, clears _pingAt.)
    c._out(c._cn); // [MQTT-3.1.0-1]: CONNECT first
  } else {
    c._writable = 1;
    pump(c);
  }
};

/**
 * The connection is gone, or given up because of `code` (a protocol error, a timeout; 0: nothing
 * to report): closes the socket if there still is one, reports, keeps the outbox for the next
 * connection, and schedules a reconnect. Called with no code, as _finish, it ends the client
 * instead: DISCONNECT [MQTT-3.14.4-1, -2], what is still queued failed with 108, then `close`,
 * `offline`, `end` and end()'s callback. One function for both: one fewer on a board.
 */
P._drop = function (code?: number, cause?: any) {
  var c = this, s = c._sock, was = c._state, end = code === undefined, p = c._rp, m = c._rm, r = c._reqs, q = c._q, k = __ESPRUINO__ ? 0 : c._qh, d, e;
  if (end) {
    if (was == S.Ended) return;
    c._state = S.Ended;
    c._plat._g._clearInterval(c._timer);
    // A write that fails drops the socket quietly: _drop() reports nothing once Ended. On Node,
    // ended from a message handler: that message's ack first, as Espruino's deferred end() sends it
    // (else the broker sends a QoS 2 message again, to a client that may not hold its id).
    if (!__ESPRUINO__ && was == S.Connected && c._ack) c._out(c._ack);
    if (was == S.Connected) c._out("\xe0\x00"); // DISCONNECT
  }
  c._sock = null;
  if (s)
    try {
      // On Espruino the socket's own end(), not an adapter function (one less in the bundle).
      __ESPRUINO__ ? s.end() : c._plat._close(s, end && was == S.Connected);
    } catch (x) {}
  // A new connection's stream starts fresh; nothing of the last one is held meanwhile (nor the
  // chunk of a malformed packet).
  c._a = c._d = 0;
  c._k = c._w = 0;
  c.connected = false;
  // What was on the wire is sent again: the pump starts from the head.
  c._inflight = c._nk = 0;
  if (!__ESPRUINO__ && __QOS2__) c._in2 = 0;
  if (end) {
    // Whatever could not be sent is failed, never dropped silently (those without a callback
    // quietly: the app ended the client).
    c._q = [];
    c._reqs = [];
    if (!__ESPRUINO__) c._qh = 0;
    c._qn = c._on = 0;
    for (; k < q.length; k++) if (q[k]._cb) c._fail(q[k]._cb, Err.Ended);
    for (k = 0; k < r.length; k++) if (r[k]._cb) c._fail(r[k]._cb, Err.Ended);
  } else {
    if (was == S.Ended) return;
    c._state = S.Offline;
    if (__QOS1__) for (; (e = q[k]); k++) if (e._s & F.Sent) e._s = F.Was | (__QOS2__ ? e._s & F.Rel : 0);
    // A refused protocol waits for reconnect() [CONNACK 1]; a refused identity or credentials the
    // longest step; anything else backs off exponentially with jitter. Scheduled before the
    // listeners run, so a reconnect() from a `close` listener resets it.
    d = code == Err.RefusedProtocol || !p ? 0 : code == Err.RefusedIdentifier || code == Err.RefusedCredentials || code == Err.RefusedNotAuthorized ? m : Math.min(m, p * Math.pow(2, Math.min(c._backoff, 16)));
    c._backoff++;
    c._due = d ? c._now + Math.max(1, d / 2 + c._plat._rand() * (d / 2)) : 0;
    // An end() from one of these listeners finishes after them: `close` comes before `end`.
    c._losing = 1;
    if (code) c._fail(0, code, cause);
  }
  // (An ended client that had no socket says only `end`.)
  if (s || !end) c._emit(Ev.Close);
  if (was == S.Connected) c._emit(Ev.Offline);
  if (end) {
    c._emit(Ev.End);
    c._fail(c._endCb, 0);
  } else {
    c._losing = 0;
    if (c._ending) c._finish();
  }
};

/** Try now (e.g. when Wi-Fi comes back), with the backoff reset. Ignored after end(). */
P.reconnect = function () {
  var c = this;
  // Also while end() waits for the outbox: the attempt would connect an ended client.
  if (!c._ending && c._state != S.Ended) {
    if (c._state) c._drop(0);
    // A `close` listener may have ended the client meanwhile.
    if (!c._ending && !c._state) {
      // Due now, and opened by a tick of its own (so open() has one caller, which terser inlines:
      // one function fewer on a board).
      c._backoff = 1;
      c._due = -1;
      tick(c);
      c._backoff = 0;
    }
  }
  return c;
};

/** Writes packet `b` (an 8-bit string) now; false when there is no socket or the write failed (then dropped). */
P._out = function (b: string) {
  var c = this, s = c._sock;
  if (!s) return false;
  try {
    // On Espruino straight to the socket, then wait for `drain` (its write() says nothing useful);
    // what it throws is out of memory.
    if (__ESPRUINO__ ? (s.write(b), 1) : !c._plat._write(s, b)) c._writable = 0;
    c._sentAt = c._now;
    return true;
  } catch (x) {
    c._drop(x && (x as any).code > 300 ? (x as any).code : __ESPRUINO__ ? Err.NoMemory : Err.Socket, x);
    return false;
  }
};

// ---- incoming -------------------------------------------------------------------------------

/**
 * Reads chunk `x` of the client's socket: each packet where it lies; one that spans chunks is collected in
 * `_a` (with at most rxSize bytes of its body: a string costs nothing between packets, where a
 * buffer would hold its JsVars for good), and the rest of a PUBLISH longer than rxSize is skipped
 * (`_k` bytes left). Every packet is checked before `_packet` sees it, through the fields below.
 * Returns 0, or the Err code of a malformed packet: the stream cannot be followed past one.
 * It stops as soon as the socket is given up (a handler that ended or reconnected the client).
 */
function rx(c: any, x: string): number {
  // Appended where it lies (Espruino appends a string that has no other reference in place). What
  // the packet handler reads goes straight to the client's fields, and an oversize PUBLISH is 16 in
  // `f`: this call's scope is live while the app's listeners and callbacks run (on Espruino a
  // variable each).
  var s = c._sock, b = c._a ? (c._a += x) : x, n = b.length, i = c._k < n ? c._k : n, t, f, l, h, j, e, k, y;
  // A packet still short of the `_w` bytes it needs only grows: read again from its header once
  // complete, not at every chunk (which would be quadratic in a large rxSize).
  if (n < c._w) return 0;
  c._a = 0;
  c._w = 0;
  c._k -= i;
  // Not past an end() that finishes at once on Node (on Espruino, from inside a callback, it
  // finishes on the next turn): what follows it in the chunk is neither delivered nor acknowledged,
  // however TCP cut the stream.
  while (i < n && s == c._sock && !(__ESPRUINO__ && c._ending && (c._force || c._endCheck == c._finish))) {
    f = b.charCodeAt(i);
    t = f >> 4;
    f &= 15;
    // Only the types a server sends; flags as Table 2.2 [MQTT-2.2.2-2]: PUBLISH's are
    // DUP/QoS/RETAIN (not QoS 3, not DUP on QoS 0), PUBREL's 0010, the others' 0000.
    if (!((0x2afc >> t) & 1)) return Err.Type;
    if (t == T.PUBLISH ? (f & 6) == 6 || (f & 14) == 8 : f != (t == T.PUBREL ? 2 : 0)) return Err.Flags;
    // Remaining Length: at most 4 bytes (2.2.3); k > 127 after the loop when the chunk ends first.
    for (l = h = e = 0, j = i + 1, k = 128; k > 127 && j < n; ) {
      l += ((k = b.charCodeAt(j++)) & 127) << h;
      if (k > 127 && (h += 7) > 21) return Err.Length;
    }
    if (k < 128) {
      if (t == T.PUBLISH ? l < (f & 6 ? 5 : 3) : t == T.SUBACK ? l < 3 : l != (t == T.PINGRESP ? 0 : 2)) return Err.Size;
      // Longer than rxSize: a PUBLISH is read as far as rxSize bytes, for its topic and id, then
      // skipped; anything else is refused at its header. So what is received never depends on
      // how TCP cut the stream.
      if (l > c._rx) {
        if (t != T.PUBLISH) return Err.TooLarge;
        f |= 16;
      }
      e = j + (f & 16 ? c._rx : l);
    }
    // Incomplete: kept for the next chunk, with the bytes it needs once its header is whole.
    if (k > 127 || e > n) {
      c._a = b.substring(i);
      c._w = e && e - i;
      break;
    }
    // The 16-bit number after the fixed header: a PUBLISH's topic length, the others' packet id.
    y = (b.charCodeAt(j) << 8) | b.charCodeAt(j + 1);
    c._id = 0;
    if (t == T.PUBLISH) {
      // The topic from _ts to _te (h), then the packet id, then the payload from _ps to _pe.
      h = (c._ts = j + 2) + y;
      k = c._te = h;
      if (f & 6) k += 2;
      // A topic and id that run past the packet, or past the rxSize bytes of an oversize one.
      if (k > e) return k > j + l ? Err.Size : Err.TooLarge;
      if (f & 6 && !(c._id = (b.charCodeAt(h) << 8) | b.charCodeAt(h + 1))) return Err.ZeroId;
      // Empty, a wildcard [MQTT-3.3.2-2] or U+0000 here; ill-formed UTF-8 where there is a
      // checker (_u: Node's, and the check piece's on boards).
      for (h = c._ts; h < c._te; h++) if ((y = b.charCodeAt(h)) == 35 || y == 43 || !y) c._ts = c._te;
      if (c._ts >= c._te || (c._u && c._u(b, c._ts, c._te))) return Err.BadTopic;
      c._ps = k;
      c._pe = f & 16 ? k : e;
    } else if (t == T.CONNACK) {
      if (b.charCodeAt(j) & 0xfe || b.charCodeAt(j + 1) > 5) return Err.Connack;
    } else if (t != T.PINGRESP) {
      if (!(c._id = y)) return Err.ZeroId;
      if (t == T.SUBACK) for (c._ps = h = j + 2, c._pe = e; h < e; h++) if ((k = b.charCodeAt(h)) > 2 && k != 0x80) return Err.Suback;
    }
    // Past the packet, and past what of an oversize one's rest is in this chunk.
    i = e;
    if (f & 16) {
      h = l - c._rx;
      i += k = n - i < h ? n - i : h;
      c._k = h - k;
    }
    c._type = t;
    // The header's flags, and 16 for a PUBLISH read only as far as rxSize (one field fewer).
    c._flags = f;
    c._d = b;
    c._o = j;
    c._packet();
  }
  // The chunk is not kept until the next one (on a board, up to a few hundred bytes of JsVars).
  c._d = 0;
  return 0;
}

P._packet = function () {
  // Few variables, each used for several things: this call's scope is live while the app's
  // listeners and callbacks run (on Espruino a variable each).
  var c = this, t = c._type, id = c._id, q: any, r: any, i, e: any, done = false, g: any, j, n;
  c._recvAt = c._now;
  c._pingAt = 0;
  if (c._state == S.Connack) {
    if (t != T.CONNACK) return c._drop(Err.Unexpected); // [MQTT-3.2.0-1]
    if ((r = c._d.charCodeAt(c._o + 1))) return c._drop(Err.Refused + r);
    c._state = S.Connected;
    c.connected = true;
    c._backoff = 0;
    resume(c, (q = c._d.charCodeAt(c._o) & 1));
    // A resend that failed has already closed this connection (and said so with `close`).
    if (c.connected) c._emit(Ev.Connect, { sessionPresent: !!q, returnCode: 0 });
  } else if (t == T.CONNACK) c._drop(Err.Unexpected); // one per connection
  else if (t == T.PUBLISH) {
    q = c._flags & 6;
    if (!__QOS2__ && q > 2) return c._drop(Err.Qos2);
    // QoS 2 (method B of 4.3.3): delivered at its first PUBLISH, its id then held until PUBREL; a
    // PUBLISH with a held id is not delivered again [MQTT-4.3.3-2] (j: its index). A new one when
    // the table is full is neither delivered nor acknowledged: the broker sends it again later.
    if (__QOS2__ && q > 2 && (j = c._held.indexOf(id)) < 0 && c._held.length >= c._hm) return c._drop(Err.HeldFull);
    if (__QOS2__ && j >= 0) {
      // (delivered already)
    }
    // Larger than the receive buffer: skipped, but acknowledged so the broker does not redeliver
    // it forever; the connection stays up (departs from [MQTT-4.8.0-2]).
    else if (c._flags & 16) c._fail(0, Err.Skipped);
    else {
      // The topic (g) and payload (e): on Espruino the packet's own substrings (undefined when no
      // JsVar is left), not an adapter function, which would cost a board variables.
      r = c._plat;
      n = c._d;
      g = __ESPRUINO__ ? n.substring(c._ts, c._te) : r._topic(n, c._ts, c._te);
      e = __ESPRUINO__ ? n.substring(c._ps, c._pe) : r._payload(n, c._ps, c._pe);
      if (g === undefined || e === undefined) return c._drop(Err.NoMemory);
      // Node: the ack, for an end() from a handler, which finishes at once there (see _drop).
      if (!__ESPRUINO__) c._ack = q && (__QOS2__ && q > 2 ? "\x50\x02" : "\x40\x02") + u16(id);
      c._emit(Ev.Message, g, e, { qos: q / 2, retain: !!(c._flags & 1), dup: !!(c._flags & 8) });
      if (!__ESPRUINO__) c._ack = 0;
    }
    // Held even when a handler dropped the connection before the PUBREC: the broker resends it.
    if (__QOS2__ && q > 2 && j < 0) c._held.push(id);
    // Delivered, then acknowledged, in arrival order [MQTT-4.6.0-2, -3]; unhandled ones too [MQTT-4.5.0-2].
    if (q && c.connected) c._out((__QOS2__ && q > 2 ? "\x50\x02" : "\x40\x02") + u16(id)); // PUBREC, PUBACK
  } else if (t == T.PUBACK || (__QOS2__ && (t == T.PUBREC || t == T.PUBCOMP))) {
    // Here, not in a function of its own, as the SUBACK and UNSUBACK below: one fewer on a board.
    // `done` when it completed something (the stats piece counts the others). An outbox entry
    // takes the ack of its QoS and step: PUBACK (QoS 1), PUBREC, then PUBCOMP once Rel (QoS 2).
    if (__QOS1__)
      for (i = __ESPRUINO__ ? 0 : c._qh; !done && (e = c._q[i]); i++)
        if (e._s & F.Sent && e._i == id && (!__QOS2__ || t == (e._h & 4 ? (e._s & F.Rel ? T.PUBCOMP : T.PUBREC) : T.PUBACK))) {
          if (__QOS2__ && t == T.PUBREC) {
            // Received: its id is released in the order PUBRECs came [MQTT-4.6.0-4] (resent in the
            // outbox's order after a reconnect: the order of the PUBLISHes, which a broker's
            // PUBRECs follow [MQTT-4.6.0-3]).
            e._s |= F.Rel;
            c._out("\x62\x02" + u16(id)); // PUBREL [MQTT-4.3.3-1]
          } else {
            e._s = F.Done;
            c._inflight--;
            if (!__ESPRUINO__ && __QOS2__ && e._h & 4) c._in2--;
            pump(c, i);
          }
          done = true;
        }
    // A QoS 2 ack out of step is bad input: the session cannot tell what the broker holds.
    if (__QOS2__ && !done && t != T.PUBACK) return c._drop(Err.Unmatched), done;
  } else if (__QOS2__ && t == T.PUBREL) {
    // Released: that id may carry a new message now. PUBCOMP even for an id not held (its PUBCOMP
    // may have been lost with the last connection) [MQTT-4.3.3-2].
    if ((done = (i = c._held.indexOf(id)) >= 0)) c._held.splice(i, 1);
    c._out("\x70\x02" + u16(id)); // PUBCOMP
  } else if (t != T.PINGRESP)
    // (q: how many filters the SUBACK refused.)
    for (q = 0, r = c._reqs, n = c._pe - c._ps, i = 0; i < r.length && !done; i++)
      if ((e = r[i])._i == id && !e._q == (t == T.UNSUBACK)) {
        done = true;
        // A SUBACK has a code per filter.
        if (e._q) {
          if (n != e._f.length) return c._drop(Err.SubackCount), done;
          for (g = [], j = 0; j < n; j++) {
            g.push({ topic: e._f[j], qos: c._d.charCodeAt(c._ps + j) });
            // A refused filter is not kept: not made again after a reconnect.
            if (g[j].qos == 0x80 && ++q && c._sub) c._sub(e._f[j], -1);
          }
        }
        r.splice(i, 1);
        c._fail(e._cb, q ? Err.SubscribeRefused : 0, e._cb ? g : undefined);
      }
  return done;
};

/**
 * After CONNACK: in a resumed session the unacknowledged publishes are resent first, in order,
 * with DUP=1 and their ids [MQTT-4.4.0-1, MQTT-4.6.0-1]; in a new one they go out as new
 * publishes (new id, DUP=0) [MQTT-3.1.2-6]. Then the requests waiting for their acks are sent
 * again, in order, while the connection lasts (by the subs piece's `_again` when it is loaded: it
 * also makes the subscriptions of a new session again).
 */
function resume(c: any, sp: number) {
  // `n`: the requests there before pump(), whose QoS 0 callbacks may make more (which subscribe
  // sends itself, the client being connected).
  var r = c._reqs, n = r.length, k, q;
  // A new session: the broker holds no QoS 2 message of ours half-way either.
  if (__QOS2__ && !sp) c._held = [];
  // Resumed: an entry keeps the mark, so a resend that never got out before the next drop is
  // still renumbered (and DUP cleared) if that session turns out new.
  if (__QOS1__)
    for (k = __ESPRUINO__ ? 0 : c._qh; (q = c._q[k]); k++)
      if (q._s & F.Was) {
        if (sp) q._h |= 8;
        else {
          q._s = 0;
          q._h &= ~8;
          c._req(q);
        }
      }
  pump(c);
  // One of those callbacks may have ended the client, or lost the connection: then the requests
  // are failed already, or wait for the next one.
  if (!c.connected) return;
  if (c._again) c._again(sp, n);
  else for (k = 0; k < n && c.connected; k++) c._req(r[k]);
}

// ---- the outbox -----------------------------------------------------------------------------
// The publishes waiting to be sent or acknowledged, in order, in `_q` from index `_qh`: each an
// entry { _t topic, _p payload (its bytes as an 8-bit string), _h first byte (type, DUP, QoS,
// RETAIN), _i packet id, _s state (F), _n bytes it counts (a state byte and the packet, as the
// outbox's caps measure), _cb }. A packet is encoded when written, so DUP and a new id are field
// changes. `_qn` counts the entries' bytes, `_on` the entries; `_nk` is the pump's cursor, in
// entries from the head: those before it are on the wire or done. On Espruino the head is shift()ed (a few entries); on Node `_qh` moves and
// the array is cut once in a while (shift() costs a copy per entry in a burst of thousands).

/**
 * Writes what the outbox holds, in order, within the in-flight window and the socket's pace. With
 * `k`, entry `k` (an index in `_q`) is done first: what the head no longer needs is freed, then
 * its callback is called (one function for both: one fewer on a board).
 */
function pump(c: any, k?: number) {
  var q = c._q, e: any = k! >= 0 && q[k!], cb = e && e._cb;
  if (e) {
    e._cb = null;
    while ((e = q[__ESPRUINO__ ? 0 : c._qh]) && e._s & F.Done) {
      c._qn -= e._n;
      c._on--;
      if (c._nk) c._nk--;
      if (__ESPRUINO__) q.shift();
      else q[c._qh++] = null;
    }
    // Emptied, or mostly dead at the front: a new array, once in a while.
    if (!__ESPRUINO__ && (!c._on || (c._qh > 99 && c._qh * 2 > q.length))) {
      c._q = q.slice(c._qh);
      c._qh = 0;
    }
    c._fail(cb, 0);
  }
  if (c._busy) return;
  c._busy = 1;
  for (k = c._nk; (e = c._q[__ESPRUINO__ ? k : c._qh + k!]) && c._writable && c.connected; k!++)
    if (!(e._s & (F.Sent | F.Done))) {
      if (__QOS1__ && e._h & 6 && (c._inflight >= c._if || (!__ESPRUINO__ && __QOS2__ && e._h & 4 && c._in2 >= c._i2))) break;
      // Encoded now: DUP and a new id are field changes until then.
      // (A QoS 2 entry past its PUBREC is its PUBREL, resent in a resumed session [MQTT-4.3.3-1].)
      if (!c._out(__QOS2__ && e._s & F.Rel ? "\x62\x02" + u16(e._i) : packetText(e._h, u16(__ESPRUINO__ ? e._t : bytesOf(e._t)) + (__QOS1__ && e._h & 6 ? u16(e._i) : "") + e._p))) break;
      if (__QOS1__ && e._h & 6) {
        e._s = F.Sent | (__QOS2__ ? e._s & F.Rel : 0);
        c._inflight++;
        if (!__ESPRUINO__ && __QOS2__ && e._h & 4) c._in2++;
      } else {
        // Freed before its callback runs, so a publish from the callback finds room (this pump
        // goes on: the nested call only frees); the cursor, past it, stays right whatever the
        // callback does to the entries.
        e._s = F.Done;
        c._nk = k! + 1;
        pump(c, __ESPRUINO__ ? k : c._qh + k!);
        k = c._nk - 1;
      }
    }
  // Lost meanwhile: the entries on the wire are to be sent again, from the head (see _drop()).
  if (c.connected) c._nk = k;
  c._busy = 0;
  // (On Espruino inside a callback, end()'s timer does it: see end().)
  if (c._ending && !(__ESPRUINO__ && c._in)) c._endCheck();
}

/**
 * Publishes `payload` (string, Uint8Array or ArrayBuffer) to `topic`. Returns at once; `cb(err)`
 * fires when a QoS 0 message is written or a QoS 1 message is acknowledged, or with a coded error
 * when it cannot be sent (nothing is sent then).
 */
P.publish = function (topic: string, payload: any, opts?: any, cb?: any) {
  var c = this, q, pl, n, i, h;
  if (typeof opts == "function") {
    cb = opts;
    opts = null;
  }
  q = (opts && opts.qos) || 0;
  // The payload kept as the bytes of a string, which the app cannot change any more. On Espruino
  // made first (bytes through E.toString, which has no memory at times: undefined; 0 for what is
  // no payload), so that payloadOf is not in a board's core; on Node once it is known valid.
  pl = __ESPRUINO__ ? bytesText(payload, c._plat._g._E) : payloadOf(payload);
  n = c._ending || c._state == S.Ended ? -Err.Ended : q !== 0 && (q !== 1 || !__QOS1__) && (q !== 2 || !__QOS2__) ? -Err.Qos : (__ESPRUINO__ ? pl === 0 : pl === undefined) || typeof topic != "string" ? -Err.Options : __ESPRUINO__ && pl === undefined ? -Err.NoMemory : /*#__NOINLINE__*/ publishBody(topic, pl, q);
  if (!__ESPRUINO__ && n >= 0) pl = bytesText(pl);
  // What the entry counts among the outbox's bytes: a state byte, then the packet.
  // (The fixed header's size counted here, as headerSize() does: a call would be a function of its
  // own on a board, or one made anew at every publish where terser inlines it.)
  if (n >= 0) {
    for (i = 2, h = n; h > 127; h >>= 7) i++;
    if ((n += 1 + i) > c._ob) n = -Err.TooBig;
  }
  if (!(n > 0 && c._on < c._qs && c._qn + n <= c._ob)) c._fail(cb, n < 0 ? -n : Err.Full);
  else {
    // (No state yet: an undefined _s reads as 0 in the bit tests.)
    i = { _t: topic, _p: pl, _h: (T.PUBLISH << 4) | (q << 1) | (opts && opts.retain ? 1 : 0), _i: 0, _n: n, _cb: cb };
    if (q) c._req(i);
    c._q.push(i);
    c._qn += n;
    c._on++;
    pump(c);
  }
  return c;
};

// ---- subscriptions --------------------------------------------------------------------------

/**
 * Subscribes to one filter or an array of filters at `opts.qos` (0 or 1). `cb(err, granted)` on
 * SUBACK. (The handlers piece adds `opts.handler`.) The request is queued and sent when connected;
 * a call that fails says why to its callback, or as `error`. With `un` (the subs piece's
 * unsubscribe(): one function for both, one fewer on a board), an UNSUBSCRIBE instead, the request
 * made put in `un._r`.
 */
P.subscribe = function (filters: any, opts?: any, cb?: any, un?: any) {
  var c = this, f: string[], q, code = 0, qs: number[] = [], i, r: Req;
  if (typeof opts == "function") {
    cb = opts;
    opts = null;
  }
  f = typeof filters == "string" ? [filters] : filters;
  q = (opts && opts.qos) || 0;
  if (c._ending || c._state == S.Ended) code = Err.Ended;
  else if (q !== 0 && (q !== 1 || !__QOS1__) && (q !== 2 || !__QOS2__)) code = Err.Qos;
  else if (!f || !f.length) code = Err.Filter;
  else for (i = 0; i < f.length; i++) if (typeof f[i] != "string" || !f[i]) code = Err.Filter; // the check piece checks the rest
  if (code) c._fail(cb, code);
  else {
    for (i = 0; i < f.length; i++) {
      // Told to the pieces that keep something per filter (subs, handlers).
      if (c._sub) c._sub(f[i], un ? -1 : q, opts);
      qs.push(q);
    }
    c._reqs.push((r = { _f: f.slice(), _q: un ? null : qs, _cb: cb, _i: 0 }));
    if (un) un._r = r;
    if (c.connected) c._req(r);
  }
  return c;
};

/**
 * Gives outbox entry or request `r` a packet id not in use by the outbox or a pending request
 * [MQTT-2.3.1-2] (`r._i`, its old one free again); a request (it has filters, `_f`) is then
 * encoded and sent. One function for both: one fewer on a board. Ids are handed out in order, so
 * one can be in use again only once the counter has gone round: each time it does, the ids then
 * in use are noted once, and skipped in that round (an id freed meanwhile is skipped too, which is
 * harmless). A scan per id would make a burst after 65,535 messages quadratic.
 */
P._req = function (r: any) {
  var c = this, id, i, u: any, e;
  r._i = 0;
  for (;;) {
    if (c._pid == 65535) {
      c._ids = u = {};
      if (__QOS1__) for (i = __ESPRUINO__ ? 0 : c._qh; (e = c._q[i]); i++) if (!(e._s & F.Done) && e._h & 6) u[e._i] = 1;
      for (i = 0; i < c._reqs.length; i++) u[c._reqs[i]._i] = 1;
    }
    id = c._pid = (c._pid % 65535) + 1;
    if (!(c._ids && c._ids[id])) break;
  }
  r._i = id;
  if (r._f) c._out(subscribeText(id, r._f, r._q));
};

// ---- end ------------------------------------------------------------------------------------

/**
 * Stops new publishes, then DISCONNECT [MQTT-3.14.4-1, -2], close, `close` and `end` events, then
 * `cb`; whatever is still queued fails with 108. (The drain piece makes it wait for the outbox.)
 */
P.end = function (force?: any, cb?: any) {
  var c = this;
  if (typeof force == "function") {
    cb = force;
    force = false;
  }
  if (c._state == S.Ended) c._fail(cb, 0);
  else {
    // A second end() (e.g. end(true) while the first waits for the outbox) calls both back.
    c._endCb = c._endCb && cb ? both(c._endCb, cb) : c._endCb || cb;
    c._ending = true;
    c._endAt = c._now;
    c._force = force;
    // On Espruino, a client ended inside one of its own callbacks is never freed (2v29, measured
    // in test/espruino): there it finishes on the next turn instead, from a tick (a timer never
    // runs inside _drop()'s listeners, so no _losing to wait for).
    if (__ESPRUINO__ && c._in) c._plat._g._setTimeout(tick, 0, c);
    else if (!c._losing) c._endCheck();
  }
  return c;
};

/** One callback that calls two. */
function both(f: any, g: any) {
  return function (e?: any) {
    f(e);
    g(e);
  };
}

/** end() finishes now, or (the drain piece's _endCheck) once the outbox has no more work. */
P._endCheck = P._finish = P._drop;
