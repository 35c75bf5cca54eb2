#!/usr/bin/env node
// Encodes and decodes QoS 1 PUBLISH packets in a loop and counts the garbage collections V8 runs
// meanwhile: the codec allocates nothing per packet, so the count must be 0.
//
//   npm run bench:gc                                  1,000,000 packets per phase
//   node --expose-gc test/bench/gc.mjs 200000         fewer
//   node --expose-gc --max-semi-space-size=1 ...      any allocation at all then forces a scavenge
//   ... --build                                       ignore dist/, build the codec from src/
//
// Phases: "whole" feeds each packet as one Uint8Array chunk (reported in place); "split" feeds it
// in two chunks (assembled in the receive buffer); "string" encodes as before but feeds a fixed
// 8-bit string of a packet, as Espruino sockets deliver data (assembled in the receive buffer).
// Prints one line per phase and then `gc: N`, the total; exits 1 when N is not 0.
//
// The codec is dist/node/codec.js (`npm run build`) when that is newer than src/; otherwise it
// is built here, with the project's own build steps, into a cached file in the temp directory.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import crypto from "node:crypto";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { PerformanceObserver } from "node:perf_hooks";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const require = createRequire(import.meta.url);
const N = Number(process.argv[2]) || 1000000;
const WARM = 50000;

if (typeof globalThis.gc != "function") {
  console.error("run with node --expose-gc");
  process.exit(2);
}

/** The files the codec bundle is made of. */
function sources() {
  const dir = path.join(root, "src", "codec");
  const files = fs.readdirSync(dir).filter((f) => f.endsWith(".ts")).map((f) => path.join(dir, f));
  return [...files, path.join(root, "src", "errors.ts"), path.join(root, "src", "defines.d.ts")].filter(fs.existsSync).sort();
}

/** The codec's CommonJS bundle: dist/node/codec.js if fresh, else one built into the temp dir. */
async function codecPath() {
  const dist = path.join(root, "dist", "node", "codec.js");
  const newest = Math.max(...sources().map((f) => fs.statSync(f).mtimeMs));
  if (!process.argv.includes("--build") && fs.existsSync(dist) && fs.statSync(dist).mtimeMs >= newest) return dist;
  const hash = crypto.createHash("sha1");
  for (const f of sources()) hash.update(f).update(fs.readFileSync(f));
  const cached = path.join(os.tmpdir(), `mqttiny-gc-codec-${hash.digest("hex").slice(0, 16)}.js`);
  if (fs.existsSync(cached)) return cached;
  const { compile, bundle } = await import(pathToFileURL(path.join(root, "build", "bundle.mjs")).href);
  const { js } = compile(root); // type errors elsewhere in src/ do not matter here
  const code = await bundle(js, path.join(root, "src", "codec", "index.ts"), { ESPRUINO: false, QOS1: true, QOS2: true, TLS: true });
  const tmp = `${cached}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, code);
  fs.renameSync(tmp, cached);
  return cached;
}

const file = await codecPath();
const { createDecoder, feed, encodePublish } = require(file);

const topic = "sensors/building-7/floor-3/temp1";
if (topic.length != 32) throw new Error("topic must be 32 bytes");
const payload = new Uint8Array(64);
for (let i = 0; i < 64; i++) payload[i] = i * 7;
const out = new Uint8Array(256);
const rx = new Uint8Array(512);

// Everything the callback touches stays a small integer: a double in a closure variable would
// be a heap number per store, and that allocation would be the benchmark's, not the codec's.
let packets = 0, idXor = 0, lastLen = 0;
const d = createDecoder(rx, (x) => {
  packets++;
  idXor ^= x._id;
  lastLen = x._pe - x._ts;
});

const size = encodePublish(out, 0, topic, payload, 1, false, false, 1);
let str = "";
for (let i = 0; i < size; i++) str += String.fromCharCode(out[i]);
str = str.split("").join(""); // one flat string, as a socket would hand over

function run(n, phase) {
  for (let i = 0; i < n; i++) {
    const id = (i % 65535) + 1;
    const e = encodePublish(out, 0, topic, payload, 1, false, false, id);
    if (e < 0) throw new Error("encodePublish: " + e);
    if (phase == "split") {
      if (feed(d, out, 0, 40) || feed(d, out, 40, e)) throw new Error("feed: " + d._err);
    } else if (phase == "string") {
      if (feed(d, str, 0, e)) throw new Error("feed: " + d._err);
    } else if (feed(d, out, 0, e)) throw new Error("feed: " + d._err);
  }
}

let gcs = 0;
const obs = new PerformanceObserver((list) => (gcs += list.getEntries().length));
obs.observe({ entryTypes: ["gc"] });
const settle = () => new Promise((r) => setTimeout(r, 50));

console.log(`codec: ${path.relative(root, file) || file}`);
console.log(`${N.toLocaleString("en-US")} QoS 1 PUBLISH per phase: topic 32 B, payload 64 B, ${size} B on the wire`);
let total = 0;
for (const phase of ["whole", "split", "string"]) {
  run(WARM, phase);
  globalThis.gc();
  await settle();
  gcs = 0;
  packets = 0;
  const t0 = process.hrtime.bigint();
  run(N, phase);
  const ns = Number(process.hrtime.bigint() - t0);
  await settle();
  if (packets != N || lastLen != 32 + 2 + 64) throw new Error(`decoded ${packets} packets, last ${lastLen} bytes`);
  total += gcs;
  const ms = ns / 1e6;
  console.log(
    `${phase}: encode+decode ${ms.toFixed(0)} ms, ${(N / ms / 1000).toFixed(2)} M packets/s, ` +
      `${((N * size) / ns * 1000).toFixed(0)} MB/s, gc ${gcs}`
  );
}
obs.disconnect();
console.log(`gc: ${total}`);
process.exit(total ? 1 : 0);
