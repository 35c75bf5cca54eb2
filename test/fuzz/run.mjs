#!/usr/bin/env node
// npm run fuzz -- [--seed S] [--cases N] [--seconds T] [--client-sessions N] [--client-steps N]
//                 [--alloc-cases N] [--only I] [--client-only N] [--jobs J]
//
// The full fuzz run: test/fuzz/fuzz.test.ts under vitest with FUZZ_FULL, both projects (Node and
// Espruino sockets), one after the other unless --jobs 2. Defaults: a new random seed (printed
// first), 10,000,000 decoder cases, 1,000 client sessions of 200 steps per project, 1,000,000
// cases per phase of the no-allocation check, no time limit; --seconds T stops each part after
// T seconds with the cases run so far. --only I replays decoder case I of --seed S; --client-only N
// replays client session N (>= 1,000,000: an Espruino-project session). Exit code: vitest's.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const o = { seed: String((Math.random() * 4294967296) >>> 0), cases: "10000000", seconds: "0", "client-sessions": "1000", "client-steps": "200", "alloc-cases": "1000000", jobs: "1" };
let only, clientOnly;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const k = argv[i].replace(/^--/, ""), v = argv[++i];
  if (k == "only") only = v;
  else if (k == "client-only") clientOnly = v;
  else if (k in o && v !== undefined && /^\d+$/.test(v)) o[k] = v;
  else {
    console.error(`unknown option or value: ${argv[i - 1]} ${v ?? ""}\n` + "options: --seed S --cases N --seconds T --client-sessions N --client-steps N --alloc-cases N --only I --client-only N --jobs J");
    process.exit(2);
  }
}
console.log(`fuzz seed ${o.seed} (replay: npm run fuzz -- --seed ${o.seed} ...)`);
const env = {
  ...process.env,
  FUZZ_FULL: "1",
  FUZZ_SEED: o.seed,
  FUZZ_CASES: o.cases,
  FUZZ_SECONDS: o.seconds,
  FUZZ_CLIENT_SESSIONS: o["client-sessions"],
  FUZZ_CLIENT_STEPS: o["client-steps"],
  FUZZ_ALLOC_CASES: o["alloc-cases"],
};
if (only !== undefined) env.FUZZ_ONLY = only;
if (clientOnly !== undefined) env.FUZZ_CLIENT_ONLY = clientOnly;
const t0 = Date.now();
const r = spawnSync(process.execPath, [path.join(root, "node_modules", "vitest", "vitest.mjs"), "run", "test/fuzz/fuzz.test.ts", `--maxWorkers=${o.jobs}`], {
  cwd: root,
  env,
  stdio: "inherit",
});
console.log(`fuzz seed ${o.seed}: ${r.status === 0 ? "passed" : "FAILED"} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
process.exit(r.status ?? 1);
