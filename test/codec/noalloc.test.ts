// The codec allocates nothing per packet: test/bench/gc.mjs encodes and decodes 200,000 QoS 1
// PUBLISH packets per phase (whole Uint8Array chunks, split chunks, 8-bit string chunks) in a
// child Node with a 1 MB semi-space, where even a few bytes per packet would force scavenges,
// and must count 0 garbage collections.
import { it, expect } from "vitest";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

declare const __ESPRUINO__: boolean;

const script = fileURLToPath(new URL("../bench/gc.mjs", import.meta.url));

// V8's heap is Node's: the Espruino project has nothing different to measure here.
it.skipIf(__ESPRUINO__)("encodes and decodes 200,000 QoS 1 PUBLISH packets per phase without one garbage collection", () => {
  const r = spawnSync(process.execPath, ["--expose-gc", "--max-semi-space-size=1", script, "200000"], {
    encoding: "utf8",
    timeout: 120000,
  });
  const out = r.stdout + r.stderr;
  console.log(out.trim());
  expect(out).toMatch(/^whole: .* gc 0$/m);
  expect(out).toMatch(/^split: .* gc 0$/m);
  expect(out).toMatch(/^string: .* gc 0$/m);
  expect(out).toMatch(/^gc: 0$/m);
  expect(r.status).toBe(0);
});
