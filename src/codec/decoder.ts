// A streaming decoder for every packet a server sends (CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL,
// PUBCOMP, SUBACK, UNSUBACK, PINGRESP). Fed chunks of any size, it assembles a packet that spans
// chunks in one fixed receive buffer; on Node a packet lying wholly inside a Uint8Array chunk is
// reported in place. Espruino sockets deliver only 8-bit strings, so on those targets the decoder
// reads strings alone and the Uint8Array paths fold away at build time. It allocates nothing: a
// packet is reported as numbers and offsets in the decoder's own fields, valid during the call.
import { Err } from "../errors";
import { T } from "./packet";
import { badUtf8 } from "./strings";

export const enum St {
  Header = 0,
  Length = 1,
  /** Collecting the body, or as much of an oversize PUBLISH as the receive buffer holds. */
  Body = 2,
  /** Skipping the rest of a PUBLISH longer than the receive buffer. */
  Skip = 4,
  /** After a malformed packet: consumes nothing more until reset. */
  Dead = 5,
}

export interface Decoder {
  /** The receive buffer: a packet that spans chunks is assembled here. */
  _buf: Uint8Array;
  /** Its capacity: the longest packet received whole. */
  _max: number;
  /** String mode (the client's decoder on Node; every decoder on Espruino): packets come as 8-bit strings. */
  _x?: boolean;
  /** String mode: the body of a packet that spans chunks, collected so far (a string costs nothing between packets). */
  _acc: string;
  /** Called once per packet, with the decoder itself holding the fields below. */
  _cb: (d: Decoder) => void;
  /** Where there is one: true when topic bytes s..e are not well-formed UTF-8 [MQTT-1.5.3-1]. */
  _u?: (b: Uint8Array, s: number, e: number) => boolean;
  _st: St;
  /** Remaining Length being read / read; its shift while reading. */
  _len: number;
  _sh: number;
  /** Bytes of the body collected so far, and how many are collected (the body, or a buffer's worth). */
  _n: number;
  _need: number;
  _skip: number;
  /** Error code once Dead. */
  _err: number;

  // The packet, valid during `_cb`:
  /** Packet type (T) and the low nibble of the first byte. */
  _type: number;
  _flags: number;
  /**
   * Bytes holding the packet body, read with at(): the receive buffer, or the caller's chunk; on
   * Espruino builds the chunk, or the string of a body that spanned chunks. Body starts at `_o`.
   */
  _d: any;
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
 * Makes `d` (any object: the client is its own decoder) a decoder over receive buffer `buf`, which
 * the caller allocates once (16 bytes at least); `cb` receives every packet.
 */
export function initDecoder(d: any, buf: Uint8Array | number, cb: (d: Decoder) => void): Decoder {
  // With a capacity rather than a buffer, packets come as 8-bit strings and one that spans chunks
  // is collected in a string. (The client reads its own chunks: rx() in client.ts.)
  if (__ESPRUINO__) d._max = buf;
  else if (typeof buf == "number") {
    d._max = buf;
    d._x = true;
  } else {
    d._max = (buf as Uint8Array).length;
    d._buf = buf as Uint8Array;
  }
  d._cb = cb;
  fail(d);
  return d;
}

/** A decoder of its own over `buf`, which also refuses topics of ill-formed UTF-8. */
export function createDecoder(buf: Uint8Array, cb: (d: Decoder) => void): Decoder {
  var d = initDecoder({}, __ESPRUINO__ ? buf.length : buf, cb);
  d._u = badUtf8;
  return d;
}

/**
 * Ready for a new connection's stream (exported as resetDecoder); or, with an Err `code`, Dead
 * after a malformed packet (the decoder's own use): one function for both. Returns `code`.
 */
function fail(d: Decoder, code?: any): number {
  d._st = code ? St.Dead : St.Header;
  // No string of the last connection kept (a partial body, the last chunk): up to rxSize bytes.
  if (__ESPRUINO__ || d._x) d._acc = d._d = "";
  return (d._err = code || 0); // 0, not undefined: feed() returns it when the client marks the decoder Dead
}
export { fail as resetDecoder };

/** Byte `i` of a packet (Espruino builds hold packets in 8-bit strings), or with `w` the 16-bit number at `i`. */
export function at(p: any, i: number, w?: any): number {
  // Not recursive on Node, where it must stay small enough to be inlined.
  return !__ESPRUINO__ && typeof p != "string" ? (w ? (p[i] << 8) | p[i + 1] : p[i]) : w ? (at(p, i) << 8) | at(p, i + 1) : p.charCodeAt(i);
}


/**
 * Feeds bytes s..e of `c`. Returns 0 when all were consumed, or the Err code of a malformed
 * packet, after which the decoder consumes nothing more until resetDecoder. It also stops, with
 * 0, as soon as `_cb` marks it Dead (the client closing the connection from inside a handler).
 */
export function feed(d: Decoder, c: Uint8Array | string, s: number, e: number): number {
  var tx = __ESPRUINO__ || d._x, str = tx || typeof c == "string", b: any = tx ? 0 : d._buf, x, k, n: any;
  while (s < e && d._st != St.Dead) {
    var st = d._st;
    if (st > St.Length) {
      // Body or Skip.
      if (tx) {
        // _skip bytes left of either. A body collects in a string, which costs nothing between
        // packets, where a buffer would hold its JsVars for good.
        k = e - s < d._skip ? e - s : d._skip;
        if (st == St.Body) d._acc += (c as string).substring(s, s + k);
        s += k;
        if (!(d._skip -= k)) {
          if (st == St.Skip) d._st = St.Header;
          else {
            n = d._acc;
            d._acc = "";
            done(d, n, 0);
          }
        }
      } else if (st == St.Skip) {
        k = e - s < d._skip ? e - s : d._skip;
        s += k;
        if (!(d._skip -= k)) d._st = St.Header;
      } else {
        // A loop, not set(subarray()): a subarray is an object per chunk.
        for (k = d._n, n = d._need; k < n && s < e; ) b[k++] = str ? (c as string).charCodeAt(s++) : (c as Uint8Array)[s++];
        if ((d._n = k) == n) done(d, b, 0);
      }
    } else {
      x = str ? (c as string).charCodeAt(s++) : (c as Uint8Array)[s++];
      if (st == St.Header) {
        k = x >> 4;
        x &= 15;
        // Only the types a server sends; flags as Table 2.2 [MQTT-2.2.2-2]: PUBLISH's are
        // DUP/QoS/RETAIN (not QoS 3, not DUP on QoS 0), PUBREL's 0010, the others' 0000.
        if (!((0x2afc >> k) & 1)) fail(d, Err.Type);
        else if (k == T.PUBLISH ? (x & 6) == 6 || (x & 14) == 8 : x != (k == T.PUBREL ? 2 : 0)) fail(d, Err.Flags);
        d._type = k;
        d._flags = x;
        d._len = d._sh = 0;
        if (!d._err) d._st = St.Length;
      } else {
        d._len += (x & 127) << d._sh;
        if (x & 128) {
          if ((d._sh += 7) > 21) fail(d, Err.Length); // at most 4 bytes (2.2.3)
        } else {
          n = d._len;
          k = d._type;
          d._big = n > d._max;
          if (k == T.PUBLISH ? n < (d._flags & 6 ? 5 : 3) : k == T.SUBACK ? n < 3 : n != (k == T.PINGRESP ? 0 : 2)) fail(d, Err.Size);
          else if ((tx || !str) && e - s >= n && !d._big) {
            // Wholly inside this chunk: reported where it lies, without a copy. Only what the
            // receive buffer could hold, so what is received never depends on how TCP cut the stream.
            s += n;
            done(d, c as Uint8Array, s - n);
          } else if (d._big && k != T.PUBLISH) fail(d, Err.TooLarge);
          else {
            // A PUBLISH longer than the buffer: as much as it holds, for its topic and id; then skipped.
            d._st = St.Body;
            if (tx) {
              // Never empty here: an empty body lies wholly inside any chunk.
              d._skip = d._big ? d._max : n;
              d._acc = "";
            } else {
              d._n = 0;
              d._need = d._big ? d._max : n;
              if (!n) done(d, b, 0);
            }
          }
        }
      }
    }
  }
  return d._st == St.Dead ? d._err : 0;
}

/**
 * Validates the complete packet (or the head of an oversize PUBLISH) whose body starts at `o` in
 * `p`, fills the fields and calls back; on a malformed packet the decoder is left Dead instead.
 */
function done(d: Decoder, p: Uint8Array, o: number): any {
  var k = d._type, e = o + (d._big ? d._max : d._len), id = 0, i = o + 2, ts = i, te, x;
  d._st = d._big ? St.Skip : St.Header;
  d._skip = d._len - d._max;
  d._d = p;
  d._o = o;
  if (k == T.PUBLISH) {
    te = ts + at(p, o, 1);
    i = te + (d._flags & 6 ? 2 : 0);
    // A topic and id that run past the packet, or past the buffer's worth of an oversize one.
    if (i > e) return fail(d, i > o + d._len ? Err.Size : Err.TooLarge);
    if (d._flags & 6 && !(id = at(p, te, 1))) return fail(d, Err.ZeroId);
    // Empty, a wildcard [MQTT-3.3.2-2] or U+0000 here; ill-formed UTF-8 where the decoder has a
    // checker (_u: the codec's and Node's decoders; the check piece on boards).
    for (var j = ts; j < te; j++) if ((x = at(p, j)) == 35 || x == 43 || !x) te = 0;
    if (ts >= te || (d._u && d._u(p, ts, te))) return fail(d, Err.BadTopic);
    d._ts = ts;
    d._te = te;
    d._ps = i;
    d._pe = d._big ? i : e;
  } else if (k == T.CONNACK) {
    if (at(p, o) & 0xfe || at(p, o + 1) > 5) return fail(d, Err.Connack);
  } else if (k != T.PINGRESP) {
    id = at(p, o, 1);
    if (!id) return fail(d, Err.ZeroId);
    if (k == T.SUBACK) {
      for (d._ps = i; i < e; i++) if ((x = at(p, i)) > 2 && x != 0x80) return fail(d, Err.Suback);
      d._pe = e;
    }
  }
  d._id = id;
  d._cb(d);
  // The chunk is not kept until the next packet (on a board, up to a few hundred bytes of JsVars).
  if (__ESPRUINO__ || d._x) d._d = "";
}
