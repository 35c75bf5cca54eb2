// `npm run sim`: the esp8266 bundle in QuickJS against an embedded aedes, with a link drop and a
// broker restart, for 5 s. Exit code 0 means nothing the device had acknowledged was lost.
import { spawn } from "node:child_process";
import path from "node:path";
import { beforeAll, expect, it } from "vitest";
import { ensureBuilt } from "../bundle/built";

const root = path.resolve(__dirname, "../..");

beforeAll(() => ensureBuilt());

function run(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((res) => {
    const p = spawn(process.execPath, [path.join(root, "test/run-sim.mjs"), ...args], { cwd: root });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (out += d));
    p.on("close", (code) => res({ code, out }));
  });
}

it("runs a simulated device through a link drop and a broker restart without losing a reading", async () => {
  const { code, out } = await run(["--duration", "5"]);
  expect(code, out).toBe(0);
  // the trace
  expect(out).toMatch(/→ CONNECT clean=0 ka=10 id=dev1 user=\*\*\* pass=\*\*\*/);
  expect(out).toMatch(/← CONNACK 0 sp=0/);
  expect(out).toMatch(/← CONNACK 0 sp=1/); // the session survived the link drop / broker restart
  expect(out).toMatch(/→ SUBSCRIBE id=\d+ dev1\/cmd q1/);
  expect(out).toMatch(/→ PUBLISH q1 id=\d+ t=sensors\/temp \(\d+ B\)/);
  expect(out).toMatch(/← PUBACK id=\d+/);
  expect(out).toMatch(/← PUBLISH q1 id=\d+ t=dev1\/cmd/);
  expect(out).toMatch(/→ PUBACK id=\d+/);
  expect(out).toMatch(/\*\* link drop: 1 bridged TCP socket cut/);
  expect(out).toMatch(/\*\* broker restart: new aedes on port \d+, same persistence/);
  expect(out).toMatch(/→ DISCONNECT/);
  // credentials never printed
  expect(out).not.toMatch(/s3cret/);
  expect(out).not.toMatch(/user=sim/);
  // the summary
  expect(out).toMatch(/sent \d+, acknowledged \d+, resent \d+, received \d+, reconnects \d+/);
  const reconnects = +(/reconnects (\d+)/.exec(out) as RegExpExecArray)[1];
  expect(reconnects).toBeGreaterThanOrEqual(2);
  expect(out).toMatch(/engine memory: QuickJS memory_used_size \d+ B/);
  expect(out).toMatch(/^  lost: 0$/m);
  expect(out).not.toMatch(/board faults/);
});
