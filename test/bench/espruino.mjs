// Part "espruino": what each Espruino bundle costs in the real Espruino 2v29 interpreter (JsVars,
// per bundle x board variant x load way), from the same runs as the test tier (test/espruino/):
// load cost, peak while loading, in use after connect and after the round trip, the client's state,
// free at the end, memory errors and the checks passed. Compared with the goals in
// test/espruino/budgets.json. Needs the interpreter ($ESPRUINO_DIR or ../shared/tools/espruino).
//
//   node test/bench/espruino.mjs          (npm run bench -- espruino)
import fs from "node:fs";
import path from "node:path";
import { ensureBuilt, fmtInt, machine, printTable, root, writeResult } from "./lib.mjs";
import { COMBOS, findEspruino, pieceCosts, pool, runScenario } from "../espruino/run.mjs";

ensureBuilt();
const start = machine();
const esp = findEspruino();
if (!esp.found) {
  console.log(`espruino: skipped, ${esp.why}`);
  writeResult("espruino", { skipped: esp.why, runs: [], goals: [] }, start);
  process.exit(0);
}
const budgets = JSON.parse(fs.readFileSync(path.join(root, "test", "espruino", "budgets.json"), "utf8"));

const runs = await pool(COMBOS, 2, (c) => runScenario({ bundle: c.bundle, variant: c.variant, way: c.way, dir: esp.dir }));

printTable(
  "Espruino 2v29 (real interpreter, boards' JsVar counts): JsVars per bundle / variant / load way (repl = Web IDE, static = Storage)",
  ["bundle/variant/way", "load cost", "load peak", "run hwm", "after connect", "after round trip", "client state", "free at end", "of", "mem err", "checks passed", "failed"],
  runs.map((r) => {
    const f = r.figures;
    return [
      r.key, fmtInt(f.loadCost), fmtInt(f.loadHwm), fmtInt(f.hwm), fmtInt(f.afterConnect), fmtInt(f.afterRoundtrip), fmtInt(f.clientState), fmtInt(f.freeEnd), fmtInt(f.total),
      r.memoryErrors == null ? "-" : r.memoryErrors ? "yes" : "no", `${r.passed.length}/${r.passed.length + r.failed.length}`, r.failed.join(",") || "-",
    ];
  }),
  [
    "load cost = after require - before; load peak = high-water mark of a load-only run; run hwm = of the whole run;",
    "client state = in use after the round trip - in use after require (the client and a few program variables).",
  ],
);

// The pieces, each loaded after its core as an app does: what it adds to the core's load cost.
const pieceRuns = [];
for (const [target, variant, way] of [["espruino-esp8266", "esp8266", "static"], ["espruino-stm32", "pico", "repl"]])
  for (const p of await pieceCosts({ dir: esp.dir, target, variant, way })) pieceRuns.push({ target, variant, way, ...p });
printTable(
  "Pieces: JsVars each adds to its core once loaded (esp8266 from Storage; stm32 on the Pico the Web IDE way)",
  ["piece", "bytes", "esp8266 Storage", "Pico Web IDE"],
  [...new Set(pieceRuns.map((r) => r.piece))].map((piece) => {
    const at = (t) => pieceRuns.find((r) => r.piece == piece && r.target == t);
    const f = (r) => (r && r.loaded ? fmtInt(r.cost) : "did not load");
    return [piece, fmtInt(at("espruino-esp8266").bytes), f(at("espruino-esp8266")), f(at("espruino-stm32"))];
  }),
);

const goals = [];
for (const [key, g] of Object.entries(budgets.goals)) {
  const r = runs.find((x) => x.key === key);
  for (const [figure, goal] of Object.entries(g)) {
    const value = r ? r.figures[figure] : null;
    goals.push({ target: key, goal: `${figure} <= ${goal}`, value, met: value != null && value <= goal });
  }
}
const missed = goals.filter((g) => !g.met);
console.log(`\ngoals: ${goals.length - missed.length}/${goals.length} met${missed.length ? "; missed: " + missed.map((g) => `${g.target} ${g.goal} (${g.value ?? "did not run"})`).join("; ") : ""}`);
writeResult(
  "espruino",
  {
    interpreter: path.relative(root, esp.dir),
    runs: runs.map(({ output, ...r }) => r),
    pieces: pieceRuns,
    goals,
  },
  start,
);
