// Instrumented buffers for the fuzzer. A typed array drops a write outside it and reads
// `undefined` there without a word (and `undefined << 8` is 0), so a decoder that trusts a length
// would pass every test over plain arrays. These Proxies throw instead.

/** Properties of a Uint8Array the codec and the platform adapters may use besides indices. */
const PASS: Record<string, 1> = {
  length: 1, byteLength: 1, byteOffset: 1, buffer: 1, BYTES_PER_ELEMENT: 1, constructor: 1,
  subarray: 1, set: 1, slice: 1, copyWithin: 1, toString: 1, valueOf: 1,
};

/** Where the last violation came from, for the failure message. */
export class Violation extends Error {}

/**
 * A Proxy over `u` that throws on a read or write of any index outside [lo, hi) or not an integer
 * (including `undefined` and `NaN` keys), on any other property not in PASS, and on a stored value
 * that is not an integer 0..255. With [lo, hi) narrower than the array it also catches reads of
 * a chunk beyond the bytes the caller said to take (`feed(d, c, s, e)`).
 */
export function strict(u: Uint8Array, lo = 0, hi = u.length): Uint8Array {
  return new Proxy(u, {
    get(t, p) {
      if (typeof p == "string") {
        const c = p.charCodeAt(0);
        if (c >= 48 && c <= 57) {
          const i = +p;
          if (i >= lo && i < hi && i % 1 === 0) return t[i];
          throw new Violation(`read of index ${p} outside ${lo}..${hi - 1}`);
        }
        if (PASS[p] === 1) {
          const v = (t as any)[p];
          return typeof v == "function" ? v.bind(t) : v;
        }
      } else if (p === Symbol.iterator || p === Symbol.toStringTag) {
        const v = (t as any)[p];
        return typeof v == "function" ? v.bind(t) : v;
      }
      throw new Violation(`read of property ${String(p)}`);
    },
    set(t, p, v) {
      const i = typeof p == "string" ? +p : NaN;
      if (!(i >= lo && i < hi && i % 1 === 0)) throw new Violation(`write of index ${String(p)} outside ${lo}..${hi - 1}`);
      if (!(typeof v == "number" && v >= 0 && v <= 255 && v % 1 === 0)) throw new Violation(`stores ${v} at ${p}`);
      t[i] = v;
      return true;
    },
    has(t, p) {
      return p in t;
    },
  });
}

/** Bytes as an 8-bit string, as an Espruino socket delivers them. */
export function latin1(b: Uint8Array, s = 0, e = b.length): string {
  let out = "";
  if (e - s <= 16) {
    for (let i = s; i < e; i++) out += String.fromCharCode(b[i]);
    return out;
  }
  for (let i = s; i < e; i += 4096) out += String.fromCharCode.apply(null, Array.from(b.subarray(i, Math.min(e, i + 4096))));
  return out;
}

/** Hex text of bytes, for failure messages and regression tests. */
export function hex(b: Uint8Array, s = 0, e = b.length): string {
  let out = "";
  for (let i = s; i < e; i++) out += (i > s ? " " : "") + (b[i] < 16 ? "0" : "") + b[i].toString(16);
  return out;
}
