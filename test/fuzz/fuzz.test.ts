// The fuzzer, as a bounded slice inside `npm test`, and as the full run behind `npm run fuzz`
// (test/fuzz/run.mjs sets FUZZ_* and runs this file). A failure prints its seed and case index;
// `npm run fuzz -- --seed S --only I` (decoder) or `--client-only N` (client) replays it alone.
//
// Decoder cases are split between the two vitest projects (the decoder takes Uint8Array and string
// chunks in both); client sessions run in each project's socket mode (Node or Espruino sockets).
import { describe, it, expect } from "vitest";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { runDecoderCases, fuzzer } from "./decoder-fuzz";
import { runClientSession, CLIENT_MODE } from "./client-fuzz";
import { hex } from "./strict";

declare const __ESPRUINO__: boolean;

const env = process.env;
const num = (k: string, def: number) => (env[k] !== undefined && env[k] !== "" ? Number(env[k]) : def);
/** The fixed seed of `npm test`; `npm run fuzz` picks a new one unless told. */
const SEED = num("FUZZ_SEED", 20260126) >>> 0;
/** Decoder cases over both projects (CI: 50,000). */
const CASES = num("FUZZ_CASES", 50000);
/** Client sessions per project, and fuzz steps per session (about half of them write an input). */
const SESSIONS = num("FUZZ_CLIENT_SESSIONS", 24);
const STEPS = num("FUZZ_CLIENT_STEPS", 200);
/** Wall-clock budget per part, in seconds (0: none); parts stop early and say so. */
const SECONDS = num("FUZZ_SECONDS", 0);
/** Cases of the no-allocation check, per phase (node project only). */
const ALLOC = num("FUZZ_ALLOC_CASES", 100000);
const ONLY = env.FUZZ_ONLY, CLIENT_ONLY = env.FUZZ_CLIENT_ONLY;
const FULL = !!env.FUZZ_FULL;
const TIMEOUT = SECONDS ? SECONDS * 1000 * 1.5 + 60000 : FULL ? 24 * 3600 * 1000 : 120000;

const project = __ESPRUINO__ ? "espruino" : "node";
const half = Math.ceil(CASES / 2);
const from = __ESPRUINO__ ? half : 0, count = __ESPRUINO__ ? CASES - half : half;
const deadline = () => (SECONDS ? Date.now() + SECONDS * 1000 : Infinity);
const log = (s: string) => console.log(`fuzz[${project}] ${s}`);

describe.skipIf(ONLY !== undefined || CLIENT_ONLY !== undefined)(`fuzz, seed ${SEED}`, () => {
  it(`decoder: cases ${from}..${from + count - 1}, random bytes and mutated server streams in random chunks, over instrumented buffers`, () => {
    const s = runDecoderCases(SEED, from, count, deadline(), (p) => log(`decoder: ${p.cases} cases, ${(p.ms / 1000).toFixed(0)} s`));
    log(
      `decoder: seed ${SEED}, ${s.cases} cases (${s.random} random, ${s.valid} valid, ${s.mutated} mutated), ` +
        `${s.bytes} bytes, ${s.packets} packets, ${(s.ms / 1000).toFixed(1)} s; results ${JSON.stringify(s.codes)}`
    );
    if (s.cases < count) log(`decoder: stopped at the time limit after ${s.cases} of ${count} cases`);
    expect(s.cases).toBeGreaterThan(0);
  }, TIMEOUT);

  it(`client (${CLIENT_MODE} sockets): ${SESSIONS} sessions of ${STEPS} steps; every QoS 1 and QoS 2 publish delivered once the fuzz stops`, () => {
    const t0 = Date.now(), end = deadline();
    const tot = { sessions: 0, cases: 0, bytes: 0, connections: 0, published: 0, full: 0, received: 0, errors: {} as Record<number, number> };
    for (let i = 0; i < SESSIONS && Date.now() < end; i++) {
      const x = runClientSession(SEED, i + (__ESPRUINO__ ? 1000000 : 0), STEPS);
      tot.sessions++;
      tot.cases += x.cases;
      tot.bytes += x.bytes;
      tot.connections += x.connections;
      tot.published += x.published;
      tot.full += x.full;
      tot.received += x.received;
      for (const k in x.errors) tot.errors[k] = (tot.errors[k] || 0) + x.errors[k];
      if (FULL && (i + 1) % 1000 == 0) log(`client: ${i + 1} sessions, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    }
    log(
      `client: seed ${SEED}, ${tot.sessions} sessions, ${tot.cases} fuzz inputs (${tot.bytes} bytes), ${tot.connections} connections, ` +
        `${tot.published} publishes (${tot.full} refused 107 and retried), ${tot.received} messages received, 0 lost, ` +
        `${((Date.now() - t0) / 1000).toFixed(1)} s; errors ${JSON.stringify(tot.errors)}`
    );
    expect(tot.sessions).toBeGreaterThan(0);
  }, TIMEOUT);

  // V8's heap is Node's: the Espruino project has nothing different to measure here.
  it.skipIf(__ESPRUINO__ || !ALLOC)(`decoder allocates nothing: ${ALLOC} cases per phase in a child with a 1 MB young generation, 0 GCs`, () => {
    const script = fileURLToPath(new URL("./alloc.mjs", import.meta.url));
    const r = spawnSync(process.execPath, ["--expose-gc", "--max-semi-space-size=1", script, "--seed", String(SEED), "--cases", String(ALLOC)], {
      encoding: "utf8",
      timeout: TIMEOUT,
    });
    const out = (r.stdout + r.stderr).trim();
    log("alloc: " + out.replace(/\n/g, "\n  "));
    expect(out).toMatch(/^bytes: .* gc 0$/m);
    expect(out).toMatch(/^string: .* gc 0$/m);
    expect(r.status).toBe(0);
  }, TIMEOUT);
});

// Inputs full runs stopped at, replayed here. Neither was a decoder bug: the small-buffer decoder
// (C) checks the head of a PUBLISH larger than its buffer as soon as it has it, so on a truncated
// input it reported 206 (packet id 0) where the whole-input decoder (A) still waited for the end
// of the packet; the fuzzer's comparison did not allow 206 there.
//   seed 2718281828 case 477966, rxSize 300:
//     34 f7 0c 00 01 24 00 00 3b 13 00 07 7e f4 8f bf bf c3 a9 8f a8 91 d6 3c a7 2a c1 23 23 30 11
//     00 0c e2 82 ac c3 9f 61 41 ef bb bf 30 7e 14 c9 24
//   seed 2718281828 case 5432706, rxSize 32:
//     3d 64 00 02 c3 a9 00 00 90 54 45 4d 78 b5 58 95 39 11 d0 68 f1 c5 67 6f 34 be
describe.skipIf(ONLY !== undefined || CLIENT_ONLY !== undefined || FULL)("inputs full runs stopped at", () => {
  for (const [seed, i] of [
    [2718281828, 477966],
    [2718281828, 5432706],
  ])
    it(`seed ${seed} case ${i}`, () => {
      fuzzer().run(seed, i);
    });
});

describe.skipIf(ONLY === undefined || __ESPRUINO__)("replay of one decoder case", () => {
  it(`case ${ONLY} of seed ${SEED}`, () => {
    // A failure's message holds the input; a pass prints it.
    const z = fuzzer(), c = z.run(SEED, Number(ONLY));
    log(`case ${ONLY}: ${c.bytes} bytes, ${c.packets} packets, result ${c.code}\n  input: ${hex(z.w, 0, c.bytes)}`);
  });
});

// Sessions of the Espruino project are numbered from 1,000,000.
describe.skipIf(CLIENT_ONLY === undefined || Number(CLIENT_ONLY) >= 1000000 != __ESPRUINO__)("replay of one client session", () => {
  it(`session ${CLIENT_ONLY} of seed ${SEED} (${CLIENT_MODE} sockets)`, () => {
    const x = runClientSession(SEED, Number(CLIENT_ONLY), STEPS);
    log(`session ${CLIENT_ONLY}: ${JSON.stringify(x)}`);
  });
});
