#!/usr/bin/env node
// Builds one CommonJS bundle pair per board target in targets/ (dist/<target>/mqttiny.js, readable,
// and mqttiny.min.js) plus dist/node/codec.js; for every Espruino target also one pair per piece
// of src/pieces/ (dist/<target>/mqttiny-<piece>.js and .min.js, each with its typings), which an
// app on a board loads after "mqttiny" to patch the core's prototype. Then prints their sizes
// against the budgets in build/budgets.json (pieces as "<target>/<piece>") and the goals in
// build/targets.mjs.
//
//   node build/build.mjs                   build (type errors fail it, as with tsc)
//   node build/build.mjs --update-budgets  build, then make the current sizes the budgets
//   node build/build.mjs --no-typecheck    build without checking types (faster; for work in
//                                          progress elsewhere in src/, or when a test rebuilds)
//   node build/build.mjs --out DIR         write to DIR instead of dist/ (the determinism test)
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { bundle, compile, propertyNames, sizeOf } from "./bundle.mjs";
import { GOALS, PRETOKENISED, SWITCHES, listPieces, listTargets, targetFeatures } from "./targets.mjs";
import { pretokenised } from "./minify.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const budgetsFile = path.join(root, "build", "budgets.json");
/** The codec bundle is for Node scripts and benchmarks: Node's switches. */
const NODE_FEATURES = { ESPRUINO: false, QOS1: true, QOS2: true, TLS: true };

/**
 * minifyForBoard in worker threads, one per core (see minify-worker.mjs): each bundle starts
 * minifying as soon as rollup has made it and a worker is free. `minify(code, props)` resolves
 * to { code, props } (props: minifyForBoard's shared property names, as extended by this bundle).
 */
function minifierPool(size = os.availableParallelism()) {
  const queue = [], idle = [], workers = [];
  const next = (w) => {
    const job = queue.shift();
    if (!job) return idle.push(w);
    w.job = job;
    w.postMessage(job.msg);
  };
  const spawn = () => {
    const w = new Worker(new URL("./minify-worker.mjs", import.meta.url));
    w.on("message", (out) => {
      w.job.resolve(out);
      next(w);
    });
    w.on("error", (e) => w.job.reject(e));
    workers.push(w);
    return w;
  };
  return {
    minify: (code, props) =>
      new Promise((resolve, reject) => {
        queue.push({ msg: { code, props }, resolve, reject });
        if (idle.length) next(idle.pop());
        else if (workers.length < size) next(spawn());
      }),
    close: () => Promise.all(workers.map((w) => w.terminate())),
  };
}

/**
 * A board target's core, then its pieces one after another, each minified with the property
 * names of those before it: a `_` property gets the same short name in the core and in every
 * piece, and the new internals of a piece (its own fields) get names that neither the core nor
 * another piece uses, for public or internal properties, so any set of pieces can be loaded
 * together. One chain per target, in the order of `pieces`: the build stays deterministic.
 */
async function minifyBoard(pool, core, pieces) {
  let { code, props } = await pool.minify(core, { cache: new Map(), reserved: [] });
  const reserved = new Set(propertyNames(code)), out = { core: code, pieces: {} };
  for (const [name, readable] of pieces) {
    ({ code, props } = await pool.minify(readable, { cache: props.cache, reserved: [...reserved] }));
    out.pieces[name] = code;
    for (const n of propertyNames(code)) reserved.add(n);
  }
  return out;
}

/** The module a piece is built from: it patches the prototype of the core module on the board. */
const pieceEntry = (name) =>
  `import { ${name} } from "./${name}";\n${name}(require("mqttiny").Client.prototype);\n`;

function write(file, text) {
  // Write, then rename: tests in other workers may be reading the previous build.
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

const fmt = (n) => (n == null ? "-" : n.toLocaleString("en-US"));

function printTable(first, sizes, budgets, goals = {}) {
  const head = [first, "min B", "gzip B", "budget min", "budget gzip"];
  if (goals) head.push("goal (min)");
  const rows = Object.entries(sizes).map(([t, s]) => {
    const b = budgets[t] || {}, goal = goals ? goals[t] : null;
    const over = (k) => (b[k] != null && s[k] > b[k] ? " OVER" : "");
    const g = goal == null ? "-" : `${fmt(goal)} ${s.min <= goal ? "met" : `missed by ${fmt(s.min - goal)}`}`;
    return [t, fmt(s.min), fmt(s.gzip), fmt(b.min) + over("min"), fmt(b.gzip) + over("gzip"), g].slice(0, head.length);
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(" | ");
  console.log(line(head));
  console.log(widths.map((w) => "-".repeat(w)).join("-|-"));
  for (const r of rows) console.log(line(r));
}

async function main(argv) {
  const t0 = Date.now();
  const update = argv.includes("--update-budgets");
  const outAt = argv.indexOf("--out");
  const dist = outAt >= 0 ? path.resolve(argv[outAt + 1]) : path.join(root, "dist");
  const targets = listTargets(path.join(root, "targets"));
  const features = Object.fromEntries(targets.map((t) => [t, targetFeatures(root, t)]));

  const piecesDir = path.join(root, "src", "pieces");
  const pieces = listPieces(piecesDir), boards = targets.filter((t) => features[t].ESPRUINO);
  for (const p of pieces)
    if (!fs.existsSync(path.join(piecesDir, p + ".d.ts")))
      throw Object.assign(new Error(`src/pieces/${p}.ts has no typings: write src/pieces/${p}.d.ts (shipped as dist/<target>/mqttiny-${p}.d.ts)`), { quiet: true });

  const { js, typeErrors } = compile(root);
  // Each piece's entry, as JS beside the compiled sources (it resolves ./<piece> from there); a
  // name no source has, so it cannot replace one.
  const entry = (p) => path.join(piecesDir, `${p}.piece-entry.ts`);
  for (const p of pieces) {
    if (js.has(entry(p))) throw new Error(`${entry(p)} exists: the build needs that name for the entry of piece ${p}`);
    js.set(entry(p), pieceEntry(p));
  }
  const version = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).version;

  const pool = minifierPool(), readable = {}, minified = {}, pieceJs = {};
  for (const t of targets) {
    const on = Object.keys(SWITCHES).filter((k) => features[t][k]).join(", ") || "none";
    const banner = `// mqttiny ${version}, target ${t} (features: ${on}). Generated by build/build.mjs.`;
    readable[t] = await bundle(js, path.join(root, "targets", t + ".ts"), features[t], banner);
    if (!boards.includes(t)) {
      minified[t] = pool.minify(readable[t]).then((r) => ({ core: r.code, pieces: {} }));
      continue;
    }
    pieceJs[t] = {};
    for (const p of pieces) {
      const pb = `// mqttiny ${version}, target ${t}: mqttiny-${p}, which patches the core (load "mqttiny" first). Generated by build/build.mjs.`;
      pieceJs[t][p] = await bundle(js, entry(p), features[t], pb);
    }
    minified[t] = minifyBoard(pool, readable[t], Object.entries(pieceJs[t]));
  }
  const codecBanner = `// mqttiny ${version}: the codec alone, for Node scripts and benchmarks. Generated by build/build.mjs.`;
  const codec = await bundle(js, path.join(root, "src", "codec", "index.ts"), NODE_FEATURES, codecBanner);
  // mqttiny-compat (src/compat.ts): the API of Espruino's MQTT module over mqttiny's public API. The
  // same file for every Espruino target; it uses no feature switch.
  const compatBanner = `// mqttiny ${version}: mqttiny-compat, Espruino's MQTT module API over mqttiny. Generated by build/build.mjs.`;
  const compatMin = pool.minify(await bundle(js, path.join(root, "src", "compat.ts"), { ESPRUINO: true, QOS1: true, QOS2: true, TLS: true }, compatBanner));
  // The type check runs on this thread while the workers minify.
  const errors = argv.includes("--no-typecheck") ? "" : typeErrors();
  const done = await Promise.all([compatMin, ...targets.map((t) => minified[t])]).finally(pool.close);
  if (errors) throw Object.assign(new Error(`${errors}\n(--no-typecheck builds without checking types)`), { quiet: true });
  const compat = done[0].code, mins = Object.fromEntries(targets.map((t, i) => [t, done[i + 1]]));

  const sizes = {}, pieceSizes = {};
  for (const t of targets) {
    write(path.join(dist, t, "mqttiny.js"), readable[t]);
    if (PRETOKENISED.includes(t)) mins[t].core = pretokenised(mins[t].core);
    write(path.join(dist, t, "mqttiny.min.js"), mins[t].core);
    sizes[t] = sizeOf(mins[t].core);
  }
  write(path.join(dist, "node", "codec.js"), codec);
  // The typings ship beside every bundle (src/mqttiny.d.ts), the add-on, the pieces and their
  // typings beside each Espruino target's.
  const dts = (f) => fs.readFileSync(path.join(root, "src", f), "utf8");
  for (const t of targets) {
    write(path.join(dist, t, "mqttiny.d.ts"), dts("mqttiny.d.ts"));
    if (!features[t].ESPRUINO) continue;
    write(path.join(dist, t, "mqttiny-compat.min.js"), compat);
    write(path.join(dist, t, "mqttiny-compat.d.ts"), dts("compat.d.ts"));
    for (const p of pieces) {
      write(path.join(dist, t, `mqttiny-${p}.js`), pieceJs[t][p]);
      write(path.join(dist, t, `mqttiny-${p}.min.js`), mins[t].pieces[p]);
      write(path.join(dist, t, `mqttiny-${p}.d.ts`), dts(path.join("pieces", p + ".d.ts")));
      pieceSizes[`${t}/${p}`] = sizeOf(mins[t].pieces[p]);
    }
  }

  // A target or a piece that was removed must not leave bundles behind for the tests to check.
  for (const d of fs.readdirSync(dist)) {
    if (!targets.includes(d) && fs.existsSync(path.join(dist, d, "mqttiny.min.js"))) fs.rmSync(path.join(dist, d), { recursive: true });
    else if (boards.includes(d))
      for (const f of fs.readdirSync(path.join(dist, d))) {
        const m = /^mqttiny-([\w-]+?)(\.min)?\.(js|d\.ts)$/.exec(f);
        if (m && m[1] !== "compat" && !pieces.includes(m[1])) fs.rmSync(path.join(dist, d, f));
      }
  }

  let budgets = fs.existsSync(budgetsFile) ? JSON.parse(fs.readFileSync(budgetsFile, "utf8")) : {};
  if (update) {
    budgets = { ...sizes, ...pieceSizes };
    write(budgetsFile, JSON.stringify(budgets, null, 2) + "\n");
  }
  // Written last: its time is when the build completed (test/bundle/built.ts relies on it). The
  // targets only: README's size table has a row for each of them (test/pack/readme.test.ts).
  write(path.join(dist, "sizes.json"), JSON.stringify(sizes, null, 2) + "\n");
  printTable("target", sizes, budgets, GOALS);
  if (pieces.length) {
    console.log("");
    printTable("piece (load after mqttiny)", pieceSizes, budgets, null);
  }
  const cs = sizeOf(compat);
  console.log(`\nmqttiny-compat.min.js (Espruino targets): ${fmt(cs.min)} B, ${fmt(cs.gzip)} B gzip`);
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  console.log(`\nbuilt ${targets.length} target(s), ${pieces.length} piece(s) per Espruino target and the codec in ${secs} s${update ? "; budgets updated in build/budgets.json" : ""}`);
}

main(process.argv.slice(2)).catch((e) => {
  console.error(String((!e.quiet && e.stack) || e.message || e).trim());
  process.exit(1);
});
