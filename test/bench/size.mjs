// Part "size": each target's minified bundle, bytes and gzip bytes (level 9), measured from
// dist/<target>/mqttiny.min.js (and checked against dist/sizes.json, which the build writes), next
// to the budgets (build/budgets.json), the goals (build/targets.mjs) and the peers' figures.
//
//   node test/bench/size.mjs
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { pathToFileURL } from "node:url";
import { dist, ensureBuilt, fmtInt, machine, printTable, root, writeResult } from "./lib.mjs";

/**
 * The peers are not on npm in the form a board loads them: their sizes are quoted as measured
 * elsewhere (minified bytes, gzip bytes), not measured here.
 */
export const PEERS = [
  { name: "Espruino MQTT module (modules/MQTT.min.js)", min: 6140, gzip: 2221 },
  { name: "tinyMQTT", min: [1413, 1784], gzip: [756, 804] },
  { name: "micro-mqtt", min: 4022, gzip: 1624 },
  { name: "MQTT.js browser bundle (mqtt.min.js)", min: 342341, gzip: 105027 },
];

ensureBuilt();
const start = machine();
const { GOALS, listTargets } = await import(pathToFileURL(path.join(root, "build", "targets.mjs")).href);

function readJson(f) {
  try {
    return JSON.parse(fs.readFileSync(f, "utf8"));
  } catch {
    return null;
  }
}

const recorded = readJson(path.join(dist, "sizes.json")) || {};
const budgets = readJson(path.join(root, "build", "budgets.json"));
const targets = listTargets(path.join(root, "targets")).filter((t) => fs.existsSync(path.join(dist, t, "mqttiny.min.js")));
const rows = targets.map((t) => {
  const code = fs.readFileSync(path.join(dist, t, "mqttiny.min.js"));
  const min = code.length, gzip = zlib.gzipSync(code, { level: 9 }).length;
  const readable = fs.statSync(path.join(dist, t, "mqttiny.js")).size;
  const b = budgets?.[t] ?? null, goal = GOALS[t] ?? null, rec = recorded[t] ?? null;
  return {
    target: t, min, gzip, readable, budget: b, goal,
    goalMet: goal == null ? null : min <= goal,
    overBudget: b ? { min: b.min != null && min > b.min, gzip: b.gzip != null && gzip > b.gzip } : null,
    matchesSizesJson: rec ? rec.min === min && rec.gzip === gzip : null,
  };
});

const range = (v) => (Array.isArray(v) ? `${fmtInt(v[0])}–${fmtInt(v[1])}` : fmtInt(v));
printTable(
  "Bundle sizes, bytes: minified (what a board stores) and gzip level 9",
  ["target", "min", "gzip", "budget min", "budget gzip", "goal min", "goal"],
  rows.map((r) => [
    r.target, fmtInt(r.min), fmtInt(r.gzip),
    r.budget ? fmtInt(r.budget.min) + (r.overBudget.min ? " OVER" : "") : "none", r.budget ? fmtInt(r.budget.gzip) + (r.overBudget.gzip ? " OVER" : "") : "none",
    r.goal == null ? "-" : fmtInt(r.goal), r.goal == null ? "-" : r.goalMet ? "met" : `missed by ${fmtInt(r.min - r.goal)} (${(r.min / r.goal).toFixed(1)}×)`,
  ]),
  [
    budgets ? "" : "build/budgets.json does not exist yet (node build/build.mjs --update-budgets writes it).",
    ...rows.filter((r) => r.matchesSizesJson === false).map((r) => `note: ${r.target} differs from dist/sizes.json (a build ran since?)`),
  ].filter(Boolean),
);
printTable(
  "Peers, quoted as measured elsewhere (not on npm in the form a board loads; not measured here)",
  ["client", "min", "gzip"],
  PEERS.map((p) => [p.name, range(p.min), range(p.gzip)]),
);
const goals = rows.filter((r) => r.goal != null).map((r) => ({ target: r.target, goal: `min ≤ ${r.goal}`, value: r.min, met: r.goalMet }));
const missed = goals.filter((g) => !g.met);
console.log(`\ngoals: ${goals.length - missed.length}/${goals.length} met${missed.length ? "; missed: " + missed.map((g) => `${g.target} ${g.goal} (${g.value})`).join("; ") : ""}`);
writeResult("size", { targets: rows, peers: PEERS, peersNote: "quoted as measured elsewhere; not measured here", budgetsFile: budgets ? "build/budgets.json" : null, goals }, start);
