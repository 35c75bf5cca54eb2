// The decoder fuzzer: one case is one input from gen.mjs (random bytes, a valid server stream, or
// one mutated 1..4 times), decoded twice: by A, and by B or C (half the cases each). B and C run
// over an instrumented receive buffer and instrumented chunks (strict.ts); every feed is bounded
// in loop iterations:
//   A  the whole input as one Uint8Array chunk, receive buffer 64 KiB (packets reported in place),
//      the reference, over plain arrays (B and C cover in-place reports with instrumented chunks);
//   B  random chunk boundaries, each chunk a Uint8Array (sometimes inside a larger array, read
//      only between s and e) or an 8-bit string, receive buffer 64 KiB: must give A's packets and
//      A's result exactly (the decoder's output does not depend on how TCP cut the stream);
//   C  random chunks into a small receive buffer (16..2048 bytes): A's packets in order, except
//      that a PUBLISH larger than the buffer comes as its head only (skipped), and a packet larger
//      than the buffer may end the stream with 204/205/206/209 (its head checked as soon as it is
//      in) where A went on or still waits for the rest of it.
// Properties: no exception; no index outside the buffers or outside [s, e) of a chunk (B, C); every
// packet reported is well formed (offsets inside the packet, valid UTF-8 topic without wildcards,
// ids not 0, SUBACK codes valid...); results are 0 or a 2xx code, and a dead decoder stays dead.
// A valid stream (no mutation) must come back exactly as generated.
declare const __ESPRUINO__: boolean;
import { createDecoder, feed, resetDecoder } from "../../src/codec/decoder";
import type { Decoder } from "../../src/codec/decoder";
import { badUtf8 } from "../../src/codec/strings";
import * as G from "./gen.mjs";
import { strict, latin1, hex } from "./strict";

const DEAD = 5; // St.Dead
const BIG_RX = 65536;
const SMALL_RX = [16, 24, 32, 64, 128, 300, 512, 2048];
/** Largest payload drawn: larger than most small receive buffers, so skipping is exercised. */
const BIG_PAYLOAD = 3000;
const CODES = new Set([201, 202, 203, 204, 205, 206, 207, 208, 209]);

export interface CaseResult {
  kind: number;
  bytes: number;
  packets: number;
  code: number;
}

export class FuzzFailure extends Error {
  constructor(msg: string, readonly seed: number, readonly index: number, readonly input: string) {
    super(`${msg}\n  case ${index} of seed ${seed}; replay: npm run fuzz -- --seed ${seed} --only ${index}\n  input (${input.split(" ").length} bytes): ${input.length > 3000 ? input.slice(0, 3000) + " ..." : input}`);
  }
}

/** FNV-1a over bytes [s, e) of `b`, continuing from `h`. */
function fnv(h: number, b: Uint8Array, s: number, e: number): number {
  for (let i = s; i < e; i++) h = Math.imul(h ^ b[i], 16777619);
  return h >>> 0;
}

/** A decoder whose `_st` reads are counted: each feed may loop at most twice per byte, plus 4. */
interface Guarded {
  d: Decoder;
  /** The instrumented receive buffer and the array under it. */
  buf: Uint8Array;
  raw: Uint8Array;
  /** Per packet: full hash, head hash (type, flags, id, topic), big. */
  full: number[];
  head: number[];
  big: boolean[];
  /** The chunk being fed (instrumented) and the array under it. */
  chunk: any;
  rawChunk: any;
  reads: number;
  budget: number;
}

function guarded(rx: number, plain = false): Guarded {
  const raw = new Uint8Array(rx);
  const g: Guarded = { d: null as any, buf: plain ? raw : strict(raw), raw, full: [], head: [], big: [], chunk: null, rawChunk: null, reads: 0, budget: 0 };
  g.d = createDecoder(g.buf, (d) => check(g, d));
  let st = 0;
  Object.defineProperty(g.d, "_st", {
    get() {
      if (++g.reads > g.budget) throw new Error(`feed loops without consuming: ${g.reads} passes for a chunk of ${(g.budget - 4) / 2} bytes`);
      return st;
    },
    set(v) {
      st = v;
    },
  });
  return g;
}

/** Ready for a new input, as the client readies its decoder for a new connection. */
function reset(g: Guarded): Guarded {
  g.budget = 1;
  resetDecoder(g.d);
  g.full.length = g.head.length = g.big.length = 0;
  return g;
}

/** What every reported packet must satisfy; records its hashes. */
function check(g: Guarded, d: Decoder): void {
  const fail = (m: string) => {
    throw new Error(`reported a bad packet (type ${d._type}): ${m}`);
  };
  const t = d._type, o = d._o, buf = g.buf;
  let p: any = d._d, raw: any;
  if (typeof p == "string") {
    // Espruino builds: the chunk, or the string a body spanning chunks was collected in, never
    // more than the receive buffer's worth.
    if (p !== g.chunk && p.length > d._max) fail("collected more than the receive buffer holds");
    p = raw = Uint8Array.from(p, (ch: string) => ch.charCodeAt(0));
  } else {
    if (p !== buf && p !== g.chunk) fail("bytes neither in the receive buffer nor in the chunk");
    // Payload bytes are hashed from the array under the Proxy (the offsets were checked, and the
    // first and last bytes are read through it): the fuzzer's own reads need no instrumenting.
    raw = p === buf ? g.raw : g.rawChunk;
  }
  let h = Math.imul(2166136261 ^ t, 16777619) >>> 0;
  h = Math.imul(h ^ d._flags, 16777619) >>> 0;
  h = Math.imul(h ^ d._id, 16777619) >>> 0;
  let head = h;
  if (t == 3) {
    const q = (d._flags >> 1) & 3;
    if (q == 3 || (q == 0 && d._flags & 8)) fail("flags");
    const nt = (p[o] << 8) | p[o + 1];
    if (d._ts != o + 2 || d._te != d._ts + nt || nt < 1) fail("topic offsets");
    if (badUtf8(p, d._ts, d._te)) fail("ill-formed topic");
    for (let i = d._ts; i < d._te; i++) if (p[i] == 35 || p[i] == 43) fail("wildcard in topic");
    if (q) {
      if (!d._id || d._id != ((p[d._te] << 8) | p[d._te + 1])) fail("packet id");
    } else if (d._id) fail("id on QoS 0");
    if (d._ps != d._te + (q ? 2 : 0)) fail("payload start");
    if (d._big) {
      if (d._pe != d._ps) fail("skipped PUBLISH with a payload");
      if (d._ps - o > d._max) fail("head larger than the buffer");
    } else if (d._pe - o != d._len || d._pe < d._ps) fail("payload end");
    head = fnv(head, p, d._ts, d._te);
    if (!d._big && d._pe > d._ps && p[d._ps] + p[d._pe - 1] < 0) fail("payload");
    h = d._big ? 0 : fnv(head, raw, d._ps, d._pe);
  } else if (t == 9) {
    if (!d._id || d._pe - d._ps != d._len - 2 || d._ps != o + 2 || d._len < 3) fail("SUBACK fields");
    for (let i = d._ps; i < d._pe; i++) if (p[i] > 2 && p[i] != 0x80) fail("SUBACK code");
    h = head = fnv(h, p, d._ps, d._pe);
  } else if (t == 2) {
    if (d._len != 2 || p[o] > 1 || p[o + 1] > 5) fail("CONNACK fields");
    h = head = fnv(h, p, o, o + 2);
  } else if (t == 13) {
    if (d._len != 0) fail("PINGRESP length");
  } else if (t == 4 || t == 5 || t == 6 || t == 7 || t == 11) {
    if (d._len != 2 || !d._id || d._id != ((p[o] << 8) | p[o + 1])) fail("ack fields");
    if (d._flags != (t == 6 ? 2 : 0)) fail("ack flags");
  } else fail("a type a server never sends");
  g.full.push(h);
  g.head.push(head);
  g.big.push(d._big);
}

/**
 * Feeds bytes s..e of chunk `c` (instrumented; `raw` is the array under it) to `g`, within the
 * loop budget; returns the result.
 */
function feedOne(g: Guarded, c: any, raw: any, s: number, e: number): number {
  // Espruino's decoder reads the strings its sockets deliver, nothing else.
  if (__ESPRUINO__ && typeof c != "string") c = Buffer.from(raw).toString("latin1");
  g.chunk = c;
  g.rawChunk = raw;
  g.budget = 1e9; // the fuzzer's own reads of _st are not the decoder's
  const before = g.full.length, dead = (g.d as any)._st == DEAD;
  g.reads = 0;
  g.budget = 2 * (e - s) + 4;
  const r = feed(g.d, c, s, e);
  g.budget = 1e9;
  if (!(r === 0 || CODES.has(r))) throw new Error(`feed returned ${r}`);
  if (dead && g.full.length != before) throw new Error("a dead decoder reported a packet");
  if (r && (g.d as any)._st != DEAD) throw new Error(`feed returned ${r} but the decoder is not dead`);
  return r;
}

/** Feeds w[0..n) in random chunks (Uint8Array, Uint8Array inside a larger array, or string). */
function feedChunks(g: Guarded, r: any, w: Uint8Array, n: number, strings: number): number {
  let code = 0;
  for (let s = 0; s < n; ) {
    const e = Math.min(n, s + G.chunkLen(r));
    const k = G.below(r, 10);
    let res: number;
    if (k < strings) {
      const str = latin1(w, s, e);
      res = feedOne(g, str, str, 0, e - s);
    } else if (k < 8) {
      const a = w.slice(s, e);
      res = feedOne(g, strict(a), a, 0, e - s);
    } else {
      // The chunk lies inside a larger array: bytes before s and after e are not the decoder's.
      const pre = G.below(r, 4), post = G.below(r, 4), a = new Uint8Array(pre + (e - s) + post);
      a.fill(0xee);
      a.set(w.subarray(s, e), pre);
      res = feedOne(g, strict(a, pre, pre + (e - s)), a, pre, pre + (e - s));
    }
    if (res) {
      if (code && res != code) throw new Error(`a dead decoder changed its code from ${code} to ${res}`);
      code = res;
    }
    s = e;
  }
  // Once dead, it stays dead and says so.
  const ping = Uint8Array.of(0xd0, 0);
  if (code && feedOne(g, strict(ping), ping, 0, 2) != code) throw new Error("a dead decoder came back");
  return code;
}

/** Declared Remaining Length of the k-th frame of w[0..n), or -1. */
function frameLen(w: Uint8Array, n: number, k: number): number {
  let o = 0;
  for (let j = 0; o < n; j++) {
    let len = 0, mul = 1, i = o + 1;
    for (; i < n && i < o + 5; i++) {
      len += (w[i] & 127) * mul;
      mul *= 128;
      if (!(w[i] & 128)) break;
    }
    if (j == k) return len;
    o = i + 1 + len;
  }
  return -1;
}

/** Workspace and decoders, made once and reused by every case (reset per case). */
export interface Fuzzer {
  w: Uint8Array;
  f: { at: Int32Array; n: number };
  /** Runs case `i` of `seed`; throws a FuzzFailure. */
  run(seed: number, i: number): CaseResult;
}

export function fuzzer(): Fuzzer {
  const w = new Uint8Array(16384), f = G.frames(64), r = G.rng(1);
  const A = guarded(BIG_RX, true), B = guarded(BIG_RX), C = SMALL_RX.map((rx) => guarded(rx));
  const run = (seed: number, i: number): CaseResult => {
    r.s = G.caseSeed(seed, i);
    const unmutated = isUnmutated(r.s);
    const n = G.makeCase(r, w, f, BIG_PAYLOAD);
    const valid = unmutated && f.n > 0 && n == f.at[f.n];
    let step = "A";
    try {
      // A: one chunk, in place.
      const a = reset(A), whole = w.slice(0, n);
      const ca = feedOne(a, whole, whole, 0, n);
      if (valid && (ca || a.full.length != f.n)) throw new Error(`a valid stream of ${f.n} packets gave ${a.full.length} packets and code ${ca}`);
      if (G.below(r, 2)) {
        step = "B";
        caseB(reset(B), r, w, n, a, ca);
      } else {
        step = "C";
        const x = G.below(r, SMALL_RX.length);
        caseC(reset(C[x]), SMALL_RX[x], r, w, n, a, ca);
      }
      return { kind: f.n ? (valid ? 1 : 2) : 0, bytes: n, packets: a.full.length, code: ca };
    } catch (x: any) {
      throw new FuzzFailure(`decoder ${step}: ${x && x.stack ? x.stack : x}`, seed, i, hex(w, 0, n));
    }
  };
  return { w, f, run };
}

/** B: random chunks, large buffer: exactly what A gave. */
function caseB(b: Guarded, r: any, w: Uint8Array, n: number, a: Guarded, ca: number): void {
  const cb = feedChunks(b, r, w, n, 4);
  if (cb != ca || b.full.join() != a.full.join())
    throw new Error(`chunked decoding differs: ${b.full.length} packets, code ${cb}; whole: ${a.full.length} packets, code ${ca}`);
}

/** C: random chunks into a small buffer of `rx` bytes: A's packets, oversize ones aside. */
function caseC(c: Guarded, rx: number, r: any, w: Uint8Array, n: number, a: Guarded, ca: number): void {
  const cc = feedChunks(c, r, w, n, 5);
  const extra = c.full.length - a.full.length;
  for (let k = 0; k < c.full.length && k < a.full.length; k++)
    if (c.big[k] ? c.head[k] != a.head[k] : c.full[k] != a.full[k]) throw new Error(`small buffer (${rx}): packet ${k} differs`);
  if (extra > 0) {
    // The input ends inside a PUBLISH larger than the small buffer: its head was reported.
    if (!(extra == 1 && c.big[c.full.length - 1] && !ca && !cc)) throw new Error(`small buffer (${rx}): ${extra} packets more than whole`);
  } else if (cc != ca || extra < 0) {
    // It may stop at a packet larger than itself, whose head (topic length, topic, packet id) it
    // checks as soon as it has it, where A took the packet whole or is still waiting for its end.
    const k = c.full.length, len = frameLen(w, n, k);
    if (!(cc == 204 || cc == 205 || cc == 206 || cc == 209) || !(len > rx))
      throw new Error(`small buffer (${rx}): ${c.full.length} packets, code ${cc}; whole: ${a.full.length} packets, code ${ca} (frame ${k} declares ${len})`);
  }
}

/** Whether makeCase with this case seed leaves the stream unmutated (its first draw is 1). */
function isUnmutated(caseSeed: number): boolean {
  return G.below(G.rng(caseSeed), 10) == 1;
}

export interface RunStats {
  cases: number;
  bytes: number;
  packets: number;
  random: number;
  valid: number;
  mutated: number;
  codes: Record<number, number>;
  ms: number;
}

/** Runs cases from..from+count-1 of `seed`, stopping early at `deadline` (ms since epoch). */
export function runDecoderCases(seed: number, from: number, count: number, deadline = Infinity, progress?: (s: RunStats) => void): RunStats {
  const z = fuzzer(), t0 = Date.now();
  const s: RunStats = { cases: 0, bytes: 0, packets: 0, random: 0, valid: 0, mutated: 0, codes: {}, ms: 0 };
  for (let i = from; i < from + count; i++) {
    const c = z.run(seed, i);
    s.cases++;
    s.bytes += c.bytes;
    s.packets += c.packets;
    if (c.kind == 0) s.random++;
    else if (c.kind == 1) s.valid++;
    else s.mutated++;
    s.codes[c.code] = (s.codes[c.code] || 0) + 1;
    if ((s.cases & 1023) == 0) {
      if (Date.now() >= deadline) break;
      if (progress && (s.cases & 262143) == 0) progress({ ...s, ms: Date.now() - t0 });
    }
  }
  s.ms = Date.now() - t0;
  return s;
}
