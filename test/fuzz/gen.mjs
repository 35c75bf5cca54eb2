// Fuzz inputs for the decoder and the client: a seeded PRNG, valid server packet streams, and
// mutations of them (bit flips, byte edits, truncations, Remaining Length edits, duplicated,
// reordered, inserted and deleted packets and bytes), plus random bytes.
//
// Plain JavaScript so that a child `node --expose-gc` (test/fuzz/alloc.mjs) runs the very same
// generator without a TypeScript step. It allocates nothing per case either: everything is written
// into a caller's Uint8Array workspace, packet starts into an Int32Array, and the PRNG is one
// number in a reused object; so a garbage collection during the allocation check is the decoder's.
//
// Every case is a pure function of (seed, case index): caseSeed() mixes them, so a failing case is
// replayed alone with `npm run fuzz -- --seed S --only I`.

// Numbers crossing a call are kept to signed 32 bits: V8 boxes a returned uint32 above 2^31 in a
// heap number when the call is not inlined, and that would be an allocation per call.

/** A PRNG state: `s` is mulberry32's 32-bit state. */
export function rng(seed) {
  return { s: seed | 0 };
}

/** The next 32 random bits, as a signed integer (mulberry32). */
export function next(r) {
  var t = (r.s = (r.s + 0x6d2b79f5) | 0);
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return t ^ (t >>> 14);
}

/** An integer in [0, n). */
export function below(r, n) {
  return n <= 1 ? 0 : (next(r) >>> 0) % n;
}

/** An integer in [a, b]. */
export function between(r, a, b) {
  return a + below(r, b - a + 1);
}

/** True with probability p (a fraction). */
export function chance(r, p) {
  return next(r) >>> 0 < p * 4294967296;
}

/** The seed of case `i` of a run seeded `seed` (a 32-bit hash of both, signed). */
export function caseSeed(seed, i) {
  var h = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(i + 1, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  return h ^ (h >>> 16);
}

// ---- valid packets ---------------------------------------------------------------------------

/** Bytes of a Remaining Length `n` in the minimal form. */
function varLen(n) {
  return n < 128 ? 1 : n < 16384 ? 2 : n < 2097152 ? 3 : 4;
}

/** Writes `n` as a Remaining Length at `o` (minimal form); returns the end. */
export function putLen(w, o, n) {
  do {
    var d = n & 127;
    n >>>= 7;
    w[o++] = n ? d | 128 : d;
  } while (n);
  return o;
}

/**
 * The UTF-8 pieces topics are made of: ASCII (letters, digits, '/', '$', space, '~'), 2-, 3- and
 * 4-byte characters, U+FEFF (EF BB BF must not be stripped [MQTT-1.5.3-3]).
 */
var PIECES = [
  [0x61], [0x62], [0x7a], [0x30], [0x2f], [0x2f], [0x24], [0x20], [0x7e], [0x41],
  [0xc3, 0xa9], [0xc3, 0x9f], [0xe2, 0x82, 0xac], [0xef, 0xbb, 0xbf], [0xf0, 0x9f, 0x98, 0x80], [0xf4, 0x8f, 0xbf, 0xbf],
];

/** Writes a valid topic name of about `max` bytes (at least 1) at `o`; returns the end. */
export function putTopic(r, w, o, max) {
  var s = o, e = o + between(r, 1, max);
  while (o < e) {
    var p = PIECES[below(r, PIECES.length)];
    if (o + p.length > e && o > s) break;
    for (var i = 0; i < p.length; i++) w[o++] = p[i];
  }
  return o;
}

/** Most bytes one generated packet takes (payload cap plus headers). */
export var MAX_PACKET = 3200;

/**
 * Writes one valid server packet at `o` (a room of MAX_PACKET bytes is the caller's), of a type
 * chosen by weight, and returns its end. `big` is the largest payload to draw.
 */
export function putPacket(r, w, o, big) {
  var k = below(r, 20), i, n;
  if (k < 8) {
    // PUBLISH: QoS 0 or 1 mostly, some QoS 2; DUP only with QoS > 0 [MQTT-3.3.1-2].
    var q = below(r, 10), qos = q < 5 ? 0 : q < 9 ? 1 : 2, retain = below(r, 4) == 0;
    var dup = qos > 0 && below(r, 4) == 0;
    var pl = chance(r, 0.85) ? below(r, 17) : chance(r, 0.8) ? below(r, 300) : below(r, big + 1);
    // Topic first, into the room after the longest header, then moved into place.
    var t0 = o + 5 + 2, te = putTopic(r, w, t0, chance(r, 0.85) ? 12 : 200), nt = te - t0;
    n = 2 + nt + (qos ? 2 : 0) + pl;
    var h = o;
    w[h++] = 0x30 | (dup ? 8 : 0) | (qos << 1) | (retain ? 1 : 0);
    h = putLen(w, h, n);
    w.copyWithin(h + 2, t0, te);
    w[h] = nt >> 8;
    w[h + 1] = nt & 255;
    h += 2 + nt;
    if (qos) {
      var id = between(r, 1, 65535);
      w[h++] = id >> 8;
      w[h++] = id & 255;
    }
    for (i = 0; i < pl; i++) w[h++] = next(r) & 255;
    return h;
  }
  if (k < 14) {
    // PUBACK mostly; PUBREC, PUBREL (flags 0010), PUBCOMP, UNSUBACK.
    var a = below(r, 10), first = a < 6 ? 0x40 : a == 6 ? 0x50 : a == 7 ? 0x62 : a == 8 ? 0x70 : 0xb0;
    var aid = chance(r, 0.5) ? between(r, 1, 16) : between(r, 1, 65535);
    w[o] = first;
    w[o + 1] = 2;
    w[o + 2] = aid >> 8;
    w[o + 3] = aid & 255;
    return o + 4;
  }
  if (k < 16) {
    // SUBACK with 1..6 return codes from 0, 1, 2, 0x80.
    var c = between(r, 1, 6), sid = between(r, 1, 40);
    w[o] = 0x90;
    w[o + 1] = 2 + c;
    w[o + 2] = sid >> 8;
    w[o + 3] = sid & 255;
    for (i = 0; i < c; i++) {
      var g = below(r, 4);
      w[o + 4 + i] = g == 3 ? 0x80 : g;
    }
    return o + 4 + c;
  }
  if (k < 18) {
    w[o] = 0xd0; // PINGRESP
    w[o + 1] = 0;
    return o + 2;
  }
  w[o] = 0x20; // CONNACK: session present 0/1, return code 0..5
  w[o + 1] = 2;
  w[o + 2] = below(r, 2);
  w[o + 3] = chance(r, 0.8) ? 0 : between(r, 1, 5);
  return o + 4;
}

/**
 * Writes 1..`most` valid packets at `o`, their starts into `frames.at[0..n-1]` (`at[n]` is the
 * end, `frames.n` the count) and returns the end.
 */
export function putStream(r, w, o, most, big, frames) {
  var k = between(r, 1, most), limit = w.length - MAX_PACKET - 16;
  frames.n = 0;
  for (var i = 0; i < k && o < limit && frames.n < frames.at.length - 1; i++) {
    frames.at[frames.n++] = o;
    o = putPacket(r, w, o, big);
  }
  frames.at[frames.n] = o;
  return o;
}

/** Packet starts of a stream: `at[0..n]`, `at[n]` being its end. One per workspace. */
export function frames(max) {
  return { at: new Int32Array(max + 1), n: 0 };
}

// ---- mutations -------------------------------------------------------------------------------

/** Byte values at the edges of what fields allow. */
var EDGE = [0, 1, 2, 3, 4, 5, 6, 0x7f, 0x80, 0x81, 0xc0, 0xfe, 0xff];

/** Moves bytes [from, end) to start at `to` (either way); returns the new end. */
function move(w, from, end, to) {
  w.copyWithin(to, from, end);
  return to + (end - from);
}

/**
 * Applies one random mutation to stream [s, e) in `w` (packet starts in `f`, kept roughly right)
 * and returns the new end. Room after `e` up to `w.length - scratch` may be used.
 */
export function mutate(r, w, s, e, f) {
  var room = w.length - 2 * MAX_PACKET - 64, len = e - s, i, j, k, a, b, n;
  if (len <= 0) return e;
  var m = below(r, 13);
  var pj = f.n ? below(r, f.n) : 0, ps = f.n ? f.at[pj] : s, pe = f.n ? f.at[pj + 1] : e;
  if (ps >= e) {
    ps = s;
    pe = e;
  }
  if (pe > e) pe = e;
  switch (m) {
    case 0: // a bit flip anywhere
      w[s + below(r, len)] ^= 1 << below(r, 8);
      return e;
    case 1: // a random byte anywhere
      w[s + below(r, len)] = next(r) & 255;
      return e;
    case 2: // truncated
      return s + below(r, len);
    case 3: {
      // Remaining Length edit of packet pj: off by one, small, zero, large, the largest, 5 bytes.
      a = ps + 1;
      for (k = 0; k < 4 && a + k < e && w[a + k] & 128; k++);
      var old = 0;
      for (i = 0; i <= k && a + i < e; i++) old += (w[a + i] & 127) * Math.pow(128, i);
      var c = below(r, 8);
      n =
        c == 0 ? old + 1 : c == 1 ? Math.max(0, old - 1) : c == 2 ? 0 : c == 3 ? below(r, 300)
        : c == 4 ? between(r, 16384, 268435455) : c == 5 ? 268435455 : c == 6 ? old + between(r, 2, 2000) : -1;
      var ve = a + k + 1; // end of the old length field
      if (ve > e) return e;
      var nb = n < 0 ? 5 : varLen(n);
      if (e + nb > room) return e;
      w.copyWithin(a + nb, ve, e);
      e += a + nb - ve;
      if (n < 0) {
        for (i = 0; i < 4; i++) w[a + i] = 0xff;
        w[a + 4] = 0x7f;
      } else putLen(w, a, n);
      return e;
    }
    case 4: {
      // packet pj duplicated (right after itself, or somewhere else)
      n = pe - ps;
      if (e + n > room || e + 2 * n > w.length) return e;
      var at = chance(r, 0.5) ? pe : f.n ? f.at[below(r, f.n + 1)] : e;
      if (at > e) at = e;
      w.copyWithin(e + n, ps, pe); // a copy beyond where the stream will end
      w.copyWithin(at + n, at, e); // open the gap
      w.copyWithin(at, e + n, e + 2 * n);
      return e + n;
    }
    case 5: {
      // packets reordered: packet pj moved to another packet start
      n = pe - ps;
      if (e + n > room || e + n > w.length || !f.n) return e;
      var to = f.at[below(r, f.n + 1)];
      if (to > e) to = e;
      if (to == ps || to == pe) return e;
      w.copyWithin(e, ps, pe); // save it beyond the end
      if (to > pe) {
        w.copyWithin(ps, pe, to); // shift [pe, to) left
        w.copyWithin(to - n, e, e + n);
      } else {
        w.copyWithin(to + n, to, ps); // shift [to, ps) right
        w.copyWithin(to, e, e + n);
      }
      return e;
    }
    case 6: {
      // random bytes inserted
      n = between(r, 1, 16);
      if (e + n > room) return e;
      a = s + below(r, len + 1);
      w.copyWithin(a + n, a, e);
      for (i = 0; i < n; i++) w[a + i] = next(r) & 255;
      return e + n;
    }
    case 7: {
      // a range deleted
      a = s + below(r, len);
      b = Math.min(e, a + between(r, 1, 24));
      return move(w, b, e, a);
    }
    case 8: {
      // first byte of packet pj replaced: any type, any flags
      w[ps] = next(r) & 255;
      return e;
    }
    case 9: {
      // first byte of packet pj: the right type with wrong flags, or a type a server never sends
      var t = w[ps] >> 4;
      w[ps] = chance(r, 0.5) ? (t << 4) | below(r, 16) : (between(r, 0, 15) << 4) | (t == 3 ? w[ps] & 15 : 0);
      return e;
    }
    case 10: {
      // a 16-bit field after the fixed header (topic length, packet id) set to an edge value
      a = ps + 1;
      while (a < pe && w[a] & 128) a++;
      a++;
      if (a + 1 >= e) return e;
      j = below(r, 5);
      n = j == 0 ? 0 : j == 1 ? 0xffff : j == 2 ? pe - a : j == 3 ? pe - a - 1 : below(r, 65536);
      if (chance(r, 0.3) && a + 3 < e) a += 2 + below(r, 3);
      w[a] = (n >> 8) & 255;
      w[a + 1] = n & 255;
      return e;
    }
    case 11: {
      // one of the first body bytes of packet pj (CONNACK flags and code, SUBACK codes, ids, topic
      // length) set to an edge value
      a = ps + 1;
      while (a < pe && w[a] & 128) a++;
      a += 1 + below(r, 6);
      if (a >= e) return e;
      w[a] = EDGE[below(r, EDGE.length)];
      return e;
    }
    default: {
      // a byte inside a topic or body made ill-formed UTF-8, U+0000 or a wildcard
      j = below(r, 6);
      a = ps + 1;
      while (a < pe && w[a] & 128) a++;
      a += 3; // past the length field and the topic length: inside a PUBLISH topic
      if (a >= pe) a = s + below(r, len);
      w[a] = j == 0 ? 0x00 : j == 1 ? 0x23 : j == 2 ? 0x2b : j == 3 ? 0xc0 : j == 4 ? 0xed : 0xff;
      return e;
    }
  }
}

/** Random bytes: `n` of them, or plausible headers (valid first bytes) with random bodies. */
export function putRandom(r, w, o, most) {
  var e = o + between(r, 1, most), i;
  if (chance(r, 0.5)) {
    for (i = o; i < e; i++) w[i] = next(r) & 255;
    return e;
  }
  var FIRST = [0x20, 0x30, 0x32, 0x33, 0x3a, 0x40, 0x50, 0x62, 0x70, 0x90, 0xb0, 0xd0];
  while (o < e) {
    w[o++] = FIRST[below(r, FIRST.length)];
    if (o >= e) break;
    var n = chance(r, 0.7) ? below(r, 12) : below(r, 200);
    w[o++] = n < 128 ? n : (n & 127) | 128;
    if (n >= 128 && o < e) w[o++] = n >> 7;
    for (i = 0; i < n && o < e; i++) w[o++] = chance(r, 0.3) ? between(r, 0x61, 0x7a) : next(r) & 255;
  }
  return e;
}

/**
 * One fuzz input in `w` from 0: kind 0 a valid stream, 1 a mutated stream (1..4 mutations),
 * 2 random bytes. Returns the end; `f` holds the packet starts of the valid stream it came from.
 */
export function makeCase(r, w, f, big) {
  var k = below(r, 10), e;
  if (k == 0) {
    f.n = 0;
    return putRandom(r, w, 0, chance(r, 0.8) ? 40 : 400);
  }
  e = putStream(r, w, 0, chance(r, 0.6) ? 3 : chance(r, 0.75) ? 6 : 12, big, f);
  if (k == 1) return e;
  for (var m = between(r, 1, 4); m > 0; m--) e = mutate(r, w, 0, e, f);
  return e;
}

/** The length of the next chunk a socket delivers: often 1 byte, often a few, sometimes many. */
export function chunkLen(r) {
  var k = below(r, 10);
  return k < 3 ? 1 : k < 6 ? between(r, 2, 8) : k < 9 ? between(r, 9, 300) : between(r, 301, 4000);
}
