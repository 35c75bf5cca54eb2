#!/usr/bin/env node
// Runs one Espruino bundle in Duktape (`duk`, Debian package duktape) under a memory cap:
// shim.js + Modules.addCached("mqttiny", function(){ <bundle> }) + checks.js in one file.
//   node test/engines/duk/run.mjs [esp8266|esp32|stm32|lite ...] [--data BYTES]
// Prints the duk output; exit code 1 if any check failed.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../../..");

/** The Espruino targets: the most bytes one socket `data` event brings (268 on ESP8266, 536 on ESP32 and STM32 networks). */
export const TARGETS = {
  "espruino-esp8266": { name: "espruino-esp8266", qos1: true, qos2: false, chunk: 268 },
  "espruino-esp32": { name: "espruino-esp32", qos1: true, qos2: true, chunk: 536 },
  "espruino-stm32": { name: "espruino-stm32", qos1: true, qos2: true, chunk: 536 },
  "espruino-lite": { name: "espruino-lite", qos1: false, qos2: false, chunk: 268 },
};

/**
 * RLIMIT_DATA for duk (heap: brk and private mappings). The smallest that runs every bundle
 * measured 768 KiB (duk itself with libc needs about 380 KB before any script runs); 1 MiB
 * leaves headroom and still fails an allocation-heavy regression.
 */
export const DATA_CAP = 1024 * 1024;

export function hasDuk() {
  return spawnSync("duk", ["-e", "print(1)"], { encoding: "utf8" }).stdout?.trim() === "1";
}

export function hasPrlimit() {
  return spawnSync("prlimit", ["--version"], { encoding: "utf8" }).status === 0;
}

/** The script duk runs for `target`, written to a temp file; returns its path. */
export function compose(target, bundleFile = path.join(root, "dist", target, "mqttiny.min.js")) {
  const t = TARGETS[target];
  if (!t) throw new Error("unknown target " + target);
  const src =
    fs.readFileSync(path.join(here, "shim.js"), "utf8") +
    `\nvar TARGET = ${JSON.stringify(t)};\n` +
    // As the Web IDE uploads a module: the minified source as the body of a function.
    `Modules.addCached("mqttiny", function () {\n${fs.readFileSync(bundleFile, "utf8")}\n});\n` +
    // The pieces the checks use (stats, handlers, subs), loaded as a board program would.
    ["stats", "handlers", "subs"].map((p) => `Modules.addCached("mqttiny-${p}", function () {\n${fs.readFileSync(path.join(path.dirname(bundleFile), `mqttiny-${p}.min.js`), "utf8")}\n});\n`).join("") +
    fs.readFileSync(path.join(here, "checks.js"), "utf8");
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "mqttiny-duk-")), `${target}.js`);
  fs.writeFileSync(file, src);
  return file;
}

/** Runs the checks for `target`: {status, stdout, stderr, results: Map(name -> "PASS" | "FAIL why"), done}. */
export function runDuk(target, { data = DATA_CAP } = {}) {
  const file = compose(target);
  const cmd = data && hasPrlimit() ? ["prlimit", [`--data=${data}`, "duk", file]] : ["duk", [file]];
  const r = spawnSync(cmd[0], cmd[1], { encoding: "utf8", timeout: 60000 });
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
  const results = new Map();
  let done = false;
  for (const line of (r.stdout || "").split("\n")) {
    const m = /^RESULT (\S+) (PASS|FAIL)(?: (.*))?$/.exec(line);
    if (m) results.set(m[1], m[2] === "PASS" ? "PASS" : "FAIL " + (m[3] || ""));
    if (line.startsWith("DONE ")) done = true;
  }
  return { status: r.status, signal: r.signal, stdout: r.stdout || "", stderr: r.stderr || "", results, done, cap: data };
}

/** Smallest RLIMIT_DATA (to 64 KiB) under which `target` gives the results it gives with `hi`. */
export function minimumCap(target, lo = 256 * 1024, hi = 8 * 1024 * 1024) {
  const want = runDuk(target, { data: hi });
  if (!want.done) return null;
  const ok = (d) => {
    const r = runDuk(target, { data: d });
    return r.done && [...want.results].every(([k, v]) => r.results.get(k) === v);
  };
  while (hi - lo > 64 * 1024) {
    const mid = Math.floor((lo + hi) / 2 / 65536) * 65536;
    if (ok(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const di = args.indexOf("--data");
  const data = di >= 0 ? +args.splice(di, 2)[1] : DATA_CAP;
  const min = args.includes("--min") && args.splice(args.indexOf("--min"), 1);
  const targets = args.length ? args.map((a) => (a.startsWith("espruino-") ? a : "espruino-" + a)) : Object.keys(TARGETS);
  let failed = false;
  for (const t of targets) {
    if (min) {
      console.log(`${t}: smallest --data that passes: ${minimumCap(t)} bytes`);
      continue;
    }
    const r = runDuk(t, { data });
    process.stdout.write(`# ${t} (prlimit --data=${data})\n` + r.stdout + r.stderr);
    if (!r.done || [...r.results.values()].some((v) => v !== "PASS")) failed = true;
  }
  process.exit(failed ? 1 : 0);
}
