#!/usr/bin/env node
// `npm run bench [-- part ...]`: runs the benchmark parts (all by default), each in a Node process
// of its own (with --expose-gc), printing its tables and writing dist/bench/<part>.json.
//
//   npm run bench                  codec, client, memory, size, engine, espruino
//   npm run bench -- codec size    only those
//   BENCH_SMOKE=1 npm run bench    tiny inputs and few samples (what test/bench/bench.test.ts runs)
//   BENCH_OUT=dir                  write the JSON files to dir instead of dist/bench
//
// The figures that matter are ratios to a peer measured in the same process and run; absolute
// times depend on the machine and on what else runs on it (the load average is printed).
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { benchDir, ensureBuilt, loadLine, OUT, root } from "./lib.mjs";

export const PARTS = ["codec", "client", "memory", "size", "engine", "espruino"];

const args = process.argv.slice(2);
const unknown = args.filter((a) => !PARTS.includes(a));
if (unknown.length) {
  console.error(`unknown part(s): ${unknown.join(", ")}; parts: ${PARTS.join(", ")}`);
  process.exit(2);
}
const parts = args.length ? PARTS.filter((p) => args.includes(p)) : PARTS;

ensureBuilt();
const load = os.loadavg()[0];
console.log(`bench: ${parts.join(", ")}; ${loadLine()}; results in ${path.relative(root, OUT) || OUT}/`);
if (load > os.cpus().length * 0.5)
  console.log(`note: the machine is busy (1-min load ${load.toFixed(2)}): timings will be noisy; ratios are measured side by side to limit that.`);

const failed = [];
for (const p of parts) {
  const t0 = Date.now();
  console.log(`\n=== ${p} ${"=".repeat(Math.max(0, 70 - p.length))}`);
  const r = spawnSync(process.execPath, ["--expose-gc", path.join(benchDir, `${p}.mjs`)], { cwd: root, stdio: "inherit", env: process.env });
  if (r.status !== 0) failed.push(p);
  console.log(`(${p}: ${((Date.now() - t0) / 1000).toFixed(1)} s${r.status !== 0 ? `, FAILED with ${r.status ?? r.signal}` : ""})`);
}
// Every part's goals, in one place.
const lines = [];
for (const p of parts) {
  try {
    const j = JSON.parse(fs.readFileSync(path.join(OUT, `${p}.json`), "utf8"));
    if (!Array.isArray(j.goals) || !j.goals.length) continue;
    const missed = j.goals.filter((g) => !g.met).length;
    lines.push(`  ${p.padEnd(7)} ${j.goals.length - missed}/${j.goals.length} met${missed ? `, ${missed} missed` : ""}`);
  } catch {}
}
if (lines.length) console.log(`
goals (details above and in each JSON's "goals"):\n${lines.join("\n")}`);
if (failed.length) {
  console.error(`\nfailed: ${failed.join(", ")}`);
  process.exit(1);
}
