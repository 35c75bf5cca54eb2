import { runScenario, table } from "../test/espruino/run.mjs";
const combos = (process.argv[2]||"esp8266:esp8266:static").split(",").map(s=>s.split(":"));
const recs = await Promise.all(combos.map(([bundle,variant,way])=>runScenario({bundle,variant,way})));
console.log(table(recs));
for (const r of recs) console.log(r.key, "failed:", JSON.stringify(r.failed ?? r.checks?.filter?.(c=>!c.ok)));
