// Espruino's pretokenise flag, which a board core turns on while it loads (build/minify.mjs,
// pretokenised()), is the app's setting again afterwards, also when the load stops half way: out
// of memory, Espruino skips the rest of the module (and `finally` blocks), not a timer set before.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, it } from "vitest";
import { ensureBuilt } from "../bundle/built";
import { esp, withEspruino } from "./tier";
// @ts-ignore: a plain ES module shared with `npm run bench -- espruino`
import { root, runEspruino } from "./run.mjs";

const SCRIPT = `var loaded = "no";
try { loaded = typeof require("mqttiny").connect; } catch (e) { loaded = "threw"; }
setTimeout(function () { print("@@PT loaded=" + loaded + " pretokenise=" + E.getFlags().pretokenise); quit(); }, 100);
`;

async function flagAfterLoad(vars: number) {
  ensureBuilt();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mqttiny-flags-"));
  const script = path.join(dir, "flags.js");
  fs.writeFileSync(script, SCRIPT);
  try {
    const bundle = path.join(root, "dist", "espruino-esp32", "mqttiny.min.js");
    const r = await runEspruino({ dir: esp.dir, modules: [["mqttiny", bundle]], script, variant: "esp32", way: "repl", seconds: 10, vars });
    return { line: r.lines.find((l: string) => l.startsWith("@@PT")) ?? `no @@PT line: ${r.lines.slice(-5).join(" | ")}`, memoryErrors: r.final?.memoryErrors };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

withEspruino("the core's pretokenise flag (real interpreter)", () => {
  it("is off again after a Web IDE load that runs out of memory half way (ESP32 bundle on 2,500 JsVars)", async () => {
    // Between the ~2,000 JsVars the typed text takes before the module runs (twice its bytes) and
    // the ~2,800 the whole load peaks at (README): the flag is on when the memory runs out. A
    // smaller bundle moves both; the first expect says when this needs lowering.
    const r = await flagAfterLoad(2500);
    expect(r.memoryErrors, "the load must run out of memory, or this shows nothing").toBe(true);
    expect(r.line).toContain("pretokenise=0");
  }, 60_000);

  it("is off after a load that fits (ESP32 bundle on the ESP32's 3,400 JsVars), and the module loaded", async () => {
    const r = await flagAfterLoad(3400);
    expect(r.line).toBe("@@PT loaded=function pretokenise=0");
  }, 60_000);
});
