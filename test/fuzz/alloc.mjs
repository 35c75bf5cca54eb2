#!/usr/bin/env node
// The decoder allocates nothing, even on garbage: fuzz cases from gen.mjs (the same generator,
// seeds and chunk boundaries as the fuzzer, minus the instrumenting Proxies) are decoded in a
// child Node started with --expose-gc --max-semi-space-size=1, where a few bytes per case would
// force scavenges, and the garbage collections V8 runs meanwhile are counted: must be 0.
//
//   node --expose-gc --max-semi-space-size=1 test/fuzz/alloc.mjs [--seed S] [--cases N]
//
// Phases: "bytes" feeds each case in random chunks given as offsets into one Uint8Array (the
// decoder reports packets in place or assembles them), half into a 64 KiB receive buffer, half
// into a 64-byte one (oversize PUBLISH skipped); "string" feeds 8-bit strings (Espruino sockets)
// made before the phase starts, again in random chunks. The generator writes into a reused
// workspace and allocates nothing either. Prints one line per phase, the heap used after a full
// GC before and after, and `gc: N`; exits 1 when N is not 0.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import crypto from "node:crypto";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { PerformanceObserver } from "node:perf_hooks";
import * as G from "./gen.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const require = createRequire(import.meta.url);
const arg = (name, def) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const SEED = arg("--seed", 1) >>> 0;
const N = arg("--cases", 200000);
const WARM = Math.min(20000, N);

if (typeof globalThis.gc != "function") {
  console.error("run with node --expose-gc");
  process.exit(2);
}

/** The codec as the node target compiles it, built with the project's build steps and cached. */
async function codecPath() {
  const dir = path.join(root, "src", "codec");
  const files = [...fs.readdirSync(dir).map((f) => path.join(dir, f)), path.join(root, "src", "errors.ts")].filter((f) => f.endsWith(".ts")).sort();
  const hash = crypto.createHash("sha1");
  for (const f of files) hash.update(f).update(fs.readFileSync(f));
  const cached = path.join(os.tmpdir(), `mqttiny-fuzz-codec-${hash.digest("hex").slice(0, 16)}.js`);
  if (fs.existsSync(cached)) return cached;
  const { compile, bundle } = await import(pathToFileURL(path.join(root, "build", "bundle.mjs")).href);
  const { js } = compile(root); // type errors elsewhere in src/ do not matter here
  const code = await bundle(js, path.join(dir, "index.ts"), { ESPRUINO: false, QOS1: true, QOS2: true, TLS: true });
  const tmp = `${cached}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, code);
  fs.renameSync(tmp, cached);
  return cached;
}

const { createDecoder, feed, resetDecoder } = require(await codecPath());

// Everything the callback touches stays a small integer (a double would be a heap number).
let packets = 0, sum = 0;
const cb = (d) => {
  packets++;
  sum = (sum + d._type + d._id + d._pe - d._ps) & 0xffffff;
};
const big = createDecoder(new Uint8Array(65536), cb), small = createDecoder(new Uint8Array(64), cb);
const w = new Uint8Array(16384), f = G.frames(64), r = G.rng(1);
let codes = 0, bytes = 0;

/** Feeds w[0..n) (or string `str`) to `d` in random chunks; returns the result. */
function feedCase(d, c, n) {
  resetDecoder(d);
  for (let s = 0; s < n; ) {
    const e = Math.min(n, s + G.chunkLen(r));
    const x = feed(d, c, s, e);
    if (x) return x;
    s = e;
  }
  return 0;
}

function runBytes(from, count) {
  for (let i = from; i < from + count; i++) {
    r.s = G.caseSeed(SEED, i);
    const n = G.makeCase(r, w, f, 3000);
    bytes += n;
    if (feedCase(G.below(r, 2) ? big : small, w, n)) codes++;
  }
}

const POOL = 1024, strs = [], lens = [];
function makeStrings() {
  for (let j = 0; j < POOL; j++) {
    r.s = G.caseSeed(SEED ^ 0x5a5a5a5a, j);
    const n = G.makeCase(r, w, f, 3000);
    let s = "";
    for (let k = 0; k < n; k++) s += String.fromCharCode(w[k]);
    strs.push(s.split("").join("")); // one flat string, as a socket hands over
    lens.push(n);
  }
}

function runStrings(from, count) {
  for (let i = from; i < from + count; i++) {
    const j = i % POOL;
    r.s = G.caseSeed(SEED, i);
    bytes += lens[j];
    if (feedCase(G.below(r, 2) ? big : small, strs[j], lens[j])) codes++;
  }
}

// The GCs that started while a phase ran, by their timestamps: the observer delivers entries
// later, on a loaded machine after the settle below, so the gc() that measures the heap before
// a phase could otherwise be counted in it.
const gcAt = [];
const obs = new PerformanceObserver((list) => list.getEntries().forEach((e) => gcAt.push(e.startTime)));
obs.observe({ entryTypes: ["gc"] });
const gcsWithin = (a, b) => gcAt.filter((t) => t >= a && t <= b).length;
const settle = () => new Promise((res) => setTimeout(res, 50));
const heap = () => {
  globalThis.gc();
  return process.memoryUsage().heapUsed;
};

makeStrings();
console.log(`seed ${SEED}, ${N.toLocaleString("en-US")} fuzz cases per phase`);
let total = 0;
for (const [phase, run] of [["bytes", runBytes], ["string", runStrings]]) {
  run(0, WARM);
  const h0 = heap();
  await settle();
  packets = codes = bytes = 0;
  const t0 = process.hrtime.bigint(), p0 = performance.now();
  run(WARM, N);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6, p1 = performance.now();
  await settle();
  const n = gcsWithin(p0, p1);
  total += n;
  const h1 = heap();
  console.log(
    `${phase}: ${N} cases, ${bytes} bytes, ${packets} packets, ${codes} malformed, ${ms.toFixed(0)} ms, ` +
      `heap after gc ${h0} -> ${h1} bytes, gc ${n}`
  );
}
obs.disconnect();
console.log(`gc: ${total}`);
process.exit(total ? 1 : 0);
