// MQTT strings and the bytes of payloads. On Espruino targets a JS string is already a byte string
// (text typed on a board is UTF-8 bytes, one char per byte), so its chars are written as they are
// and only checked. On Node a JS string is UTF-16 and is encoded to UTF-8 here, straight from
// charCodeAt, without TextEncoder or Buffer.

/**
 * True when bytes s..e of `b` (a Uint8Array or an 8-bit string) are not a well-formed MQTT UTF-8
 * string: ill-formed UTF-8, overlong forms, surrogates, code points past U+10FFFF [MQTT-1.5.3-1],
 * or U+0000 [MQTT-1.5.3-2]. Chars above 0xFF in a string are rejected too (not bytes).
 */
export function badUtf8(b: Uint8Array | string, s: number, e: number): boolean {
  // One pass, one byte at a time: `n` continuation bytes still expected, each in lo..hi (the
  // first one's range narrowed after E0, ED, F0, F4: overlong forms, surrogates, past U+10FFFF).
  for (var str = typeof b == "string", c, n = 0, lo = 0, hi = 0; s < e; ) {
    c = str ? (b as string).charCodeAt(s++) : (b as Uint8Array)[s++];
    if (n) {
      if (c < lo || c > hi) return true;
      n--;
      lo = 0x80;
      hi = 0xbf;
    } else if (c > 0x7f) {
      if (c < 0xc2 || c > 0xf4) return true;
      n = c < 0xe0 ? 1 : c < 0xf0 ? 2 : 3;
      lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
      hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
    } else if (!c) return true;
  }
  return n > 0;
}

/**
 * Bytes that `s` takes on the wire. On Node -1 when it cannot be sent as an MQTT UTF-8 string: a
 * lone surrogate or, without `bin`, U+0000 [MQTT-1.5.3-1, MQTT-1.5.3-2]; with `bin` (payloads,
 * passwords) U+0000 is allowed and a lone surrogate becomes U+FFFD as Buffer would write it. On
 * Espruino a string's chars are its bytes: its length, unchecked (badStr checks).
 */
export function strBytes(s: string, bin?: boolean): number {
  if (__ESPRUINO__) return s.length;
  var l = s.length, n = 0;
  for (var i = 0; i < l; i++) {
    var c = s.charCodeAt(i);
    if (c < 0x80) {
      if (!c && !bin) return -1;
      n++;
    } else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xe000) {
      if (c < 0xdc00 && i + 1 < l && (c = s.charCodeAt(i + 1)) >= 0xdc00 && c < 0xe000) {
        i++;
        n += 4;
      } else if (bin) n += 3;
      else return -1;
    } else n += 3;
  }
  return n;
}

/** True when `s` is not a string MQTT can carry: not a string, ill-formed, U+0000, over 65,535 bytes. */
export function badStr(s: any): boolean {
  var n = typeof s != "string" ? -1 : __ESPRUINO__ ? s.length : strBytes(s);
  return n < 0 || n > 65535 || (__ESPRUINO__ && badUtf8(s, 0, n));
}

/** Writes the bytes of `s` (already measured by strBytes) at `o`; returns the end offset. */
export function writeStr(b: Uint8Array, o: number, s: string): number {
  var l = s.length;
  for (var i = 0; i < l; i++) {
    var c = s.charCodeAt(i);
    if (__ESPRUINO__ || c < 0x80) b[o++] = c;
    else if (c < 0x800) {
      b[o++] = 0xc0 | (c >> 6);
      b[o++] = 0x80 | (c & 63);
    } else {
      if (c >= 0xd800 && c < 0xe000) {
        var d = i + 1 < l ? s.charCodeAt(i + 1) : 0;
        if (c < 0xdc00 && d >= 0xdc00 && d < 0xe000) {
          i++;
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          b[o++] = 0xf0 | (c >> 18);
          b[o++] = 0x80 | ((c >> 12) & 63);
          b[o++] = 0x80 | ((c >> 6) & 63);
          b[o++] = 0x80 | (c & 63);
          continue;
        }
        c = 0xfffd;
      }
      b[o++] = 0xe0 | (c >> 12);
      b[o++] = 0x80 | ((c >> 6) & 63);
      b[o++] = 0x80 | (c & 63);
    }
  }
  return o;
}

/** A payload as the codec takes it: bytes, or a string (see strBytes with `bin`). */
export type Payload = Uint8Array | string;

/** Bytes a payload takes, or -1 when a string payload cannot be written as bytes. */
export function payloadBytes(p: Payload | null | undefined): number {
  if (__ESPRUINO__) {
    // A string's chars are its bytes; a char above 0xFF is none (only builds with UTF-8 strings make them).
    for (var n = p ? p.length : 0, i = 0; typeof p == "string" && i < n; i++) if (p.charCodeAt(i) > 255) return -1;
    return n;
  }
  return p == null ? 0 : typeof p == "string" ? strBytes(p, true) : p.length;
}

/**
 * Writes a payload measured by payloadBytes at `o`, after its 16-bit length when `field`; returns
 * the end offset. A string already measured (and found to fit) is not measured again. On Espruino
 * a number is written as one byte (a part of packetOf).
 */
export function writePayload(b: Uint8Array, o: number, p: any, field?: any): number {
  if (__ESPRUINO__) {
    // Chars are bytes: the length is known before writing, and one loop serves strings and bytes.
    var n = p ? p.length : 0, i = 0;
    if (typeof p == "number") b[o++] = p;
    else if (field) {
      b[o++] = n >> 8;
      b[o++] = n & 255;
    }
    for (; i < n; i++) b[o++] = typeof p == "string" ? p.charCodeAt(i) : (p as Uint8Array)[i];
    return o;
  }
  if (field) {
    var e = writePayload(b, o + 2, p), m = e - o - 2;
    b[o] = m >> 8;
    b[o + 1] = m & 255;
    return e;
  }
  if (p == null) return o;
  if (typeof p == "string") return writeStr(b, o, p);
  b.set(p, o);
  return o + p.length;
}

/** A payload as the codec takes it (an ArrayBuffer viewed as bytes); undefined for a type it cannot send. */
export function payloadOf(p: any): any {
  return p == null || typeof p == "string" || p instanceof Uint8Array ? p : p instanceof ArrayBuffer ? new Uint8Array(p) : undefined;
}
