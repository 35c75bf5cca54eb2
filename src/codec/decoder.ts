// A streaming decoder for every packet a server sends (CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL,
// PUBCOMP, SUBACK, UNSUBACK, PINGRESP). Fed chunks of any size, as Uint8Array or as 8-bit
// strings (Espruino sockets), it assembles a packet that spans chunks in one fixed receive buffer
// and reports a packet that lies wholly inside a Uint8Array chunk in place. It allocates nothing:
// a packet is reported as numbers and offsets in the decoder's own fields, valid during the call.
import { Err } from "../errors";
import { T } from "./packet";
import { badUtf8 } from "./strings";

export const enum St {
  Header = 0,
  Length = 1,
  Body = 2,
  /** Collecting the topic and id of a PUBLISH longer than the receive buffer. */
  Head = 3,
  /** Skipping the rest of that PUBLISH. */
  Skip = 4,
  /** After a malformed packet: consumes nothing more until reset. */
  Dead = 5,
}

export interface Decoder {
  /** The receive buffer: a packet that spans chunks is assembled here. */
  _buf: Uint8Array;
  /** Called once per packet, with the decoder itself holding the fields below. */
  _cb: (d: Decoder) => void;
  _st: St;
  /** Remaining Length being read / read; its shift while reading. */
  _len: number;
  _sh: number;
  /** Bytes of the body collected so far, and how many the Head state needs. */
  _n: number;
  _need: number;
  _skip: number;
  /** Error code once Dead. */
  _err: number;

  // The packet, valid during `_cb`:
  /** Packet type (T) and the low nibble of the first byte. */
  _type: number;
  _flags: number;
  /** Bytes holding the packet body (the receive buffer, or the caller's chunk); body starts at `_o`. */
  _d: Uint8Array;
  _o: number;
  /** Packet id (PUBLISH QoS>0, acks, SUBACK); 0 otherwise. */
  _id: number;
  /** PUBLISH: topic bytes [_ts, _te), payload bytes [_ps, _pe) in `_d`; SUBACK: codes in [_ps, _pe). */
  _ts: number;
  _te: number;
  _ps: number;
  _pe: number;
  /** A PUBLISH longer than the receive buffer: its payload was skipped (_ps == _pe). */
  _big: boolean;
}

/**
 * A decoder over receive buffer `buf` (the caller allocates it once, 16 bytes at least); `cb`
 * receives every packet.
 */
export function createDecoder(buf: Uint8Array, cb: (d: Decoder) => void): Decoder {
  return {
    _buf: buf,
    _cb: cb,
    _st: St.Header,
    _len: 0,
    _sh: 0,
    _n: 0,
    _need: 0,
    _skip: 0,
    _err: 0,
    _type: 0,
    _flags: 0,
    _d: null as any,
    _o: 0,
    _id: 0,
    _ts: 0,
    _te: 0,
    _ps: 0,
    _pe: 0,
    _big: false,
  };
}

/** Ready for a new connection's stream. */
export function resetDecoder(d: Decoder): void {
  d._st = St.Header;
  d._err = 0;
  d._big = false;
}

function fail(d: Decoder, code: number): number {
  d._st = St.Dead;
  return (d._err = code);
}

/**
 * Feeds bytes s..e of `c`. Returns 0 when all were consumed, or the Err code of a malformed
 * packet, after which the decoder consumes nothing more until resetDecoder. It also stops, with
 * 0, as soon as `_cb` marks it Dead (the client closing the connection from inside a handler).
 */
export function feed(d: Decoder, c: Uint8Array | string, s: number, e: number): number {
  var str = typeof c == "string", b = d._buf, x, k;
  while (s < e) {
    var st = d._st;
    if (st == St.Dead) return d._err;
    if (st == St.Header) {
      x = str ? (c as string).charCodeAt(s++) : (c as Uint8Array)[s++];
      k = x >> 4;
      x &= 15;
      // Table 2.2 [MQTT-2.2.2-2]: PUBLISH flags are DUP/QoS/RETAIN, PUBREL's are 0010, others 0000.
      if (k == T.PUBLISH) {
        if ((x & 6) == 6 || (x & 14) == 8) return fail(d, Err.Flags); // QoS 3; DUP on QoS 0
      } else if (k < T.CONNACK || k > T.PINGRESP || k == T.SUBSCRIBE || k == T.UNSUBSCRIBE || k == T.PINGREQ)
        return fail(d, Err.Type);
      else if (x != (k == T.PUBREL ? 2 : 0)) return fail(d, Err.Flags);
      d._type = k;
      d._flags = x;
      d._len = d._sh = 0;
      d._st = St.Length;
    } else if (st == St.Length) {
      x = str ? (c as string).charCodeAt(s++) : (c as Uint8Array)[s++];
      d._len += (x & 127) << d._sh;
      if (x & 128) {
        if ((d._sh += 7) > 21) return fail(d, Err.Length); // at most 4 bytes (2.2.3)
        continue;
      }
      var n = d._len;
      k = d._type;
      d._big = false;
      if (k == T.PUBLISH) {
        if (n < ((d._flags & 6) ? 5 : 3)) return fail(d, Err.Size);
      } else if (k == T.SUBACK ? n < 3 : n != (k == T.PINGRESP ? 0 : 2)) return fail(d, Err.Size);
      d._n = 0;
      if (!n) {
        if (done(d, b, 0)) return d._err;
      } else if (!str && e - s >= n && n <= b.length) {
        // Wholly inside this chunk: report it where it lies, without a copy. Only what the
        // receive buffer could hold, so what is received never depends on how TCP cut the stream.
        x = s;
        s += n;
        if (done(d, c as Uint8Array, x)) return d._err;
      } else if (n <= b.length) d._st = St.Body;
      else if (k == T.PUBLISH) {
        d._need = 2;
        d._st = St.Head;
      } else return fail(d, Err.TooLarge);
    } else if (st == St.Skip) {
      k = e - s < d._skip ? e - s : d._skip;
      s += k;
      if (!(d._skip -= k)) d._st = St.Header;
    } else {
      // Body or Head: copy into the receive buffer.
      var want = st == St.Body ? d._len : d._need;
      k = d._n;
      // A loop, not set(subarray()): a subarray is an object per chunk.
      if (str) while (k < want && s < e) b[k++] = (c as string).charCodeAt(s++);
      else while (k < want && s < e) b[k++] = (c as Uint8Array)[s++];
      d._n = k;
      if (k < want) continue;
      if (st == St.Body) {
        if (done(d, b, 0)) return d._err;
      } else if (want == 2) {
        // Topic length read: now the topic and the packet id must fit. An empty topic is
        // refused here, which also keeps `want` above 2 so this branch runs once.
        x = (b[0] << 8) | b[1];
        if (!x) return fail(d, Err.BadTopic);
        want = 2 + x + ((d._flags & 6) ? 2 : 0);
        if (want > d._len) return fail(d, Err.Size);
        if (want > b.length) return fail(d, Err.TooLarge);
        d._need = want;
      } else {
        d._skip = d._len - want;
        d._big = true;
        if (done(d, b, 0)) return d._err;
        if (d._st == St.Header) d._st = St.Skip;
      }
    }
  }
  return d._st == St.Dead ? d._err : 0;
}

/**
 * Validates the complete packet (or the head of an oversize PUBLISH) whose body starts at `o` in
 * `p`, fills the fields and calls back. True when the packet is malformed (decoder now Dead).
 */
function done(d: Decoder, p: Uint8Array, o: number): boolean {
  var k = d._type, e = o + (d._big ? d._need : d._len), id = 0, i;
  d._st = St.Header;
  d._d = p;
  d._o = o;
  if (k == T.PUBLISH) {
    var ts = o + 2, te = ts + ((p[o] << 8) | p[o + 1]);
    if (d._flags & 6) {
      if (te + 2 > e) return !!fail(d, Err.Size);
      id = (p[te] << 8) | p[te + 1];
      if (!id) return !!fail(d, Err.ZeroId);
      i = te + 2;
    } else {
      if (te > e) return !!fail(d, Err.Size);
      i = te;
    }
    if (ts == te || badUtf8(p, ts, te)) return !!fail(d, Err.BadTopic);
    for (var j = ts; j < te; j++) if (p[j] == 35 || p[j] == 43) return !!fail(d, Err.BadTopic); // [MQTT-3.3.2-2]
    d._ts = ts;
    d._te = te;
    d._ps = i;
    d._pe = d._big ? i : e;
  } else if (k == T.CONNACK) {
    if (p[o] & 0xfe || p[o + 1] > 5) return !!fail(d, Err.Connack);
  } else if (k != T.PINGRESP) {
    id = (p[o] << 8) | p[o + 1];
    if (!id) return !!fail(d, Err.ZeroId);
    if (k == T.SUBACK) {
      for (i = o + 2; i < e; i++) if (p[i] > 2 && p[i] != 0x80) return !!fail(d, Err.Suback);
      d._ps = o + 2;
      d._pe = e;
    }
  }
  d._id = id;
  d._cb(d);
  return false;
}
