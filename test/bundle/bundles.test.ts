// The built bundles, checked as a board would meet them: ES5 that Espruino parses, nothing it lacks,
// no function used before its declaration, loadable the ways users load modules, internal names
// mangled, and sizes held to the budgets in build/budgets.json.
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import vm from "node:vm";
import zlib from "node:zlib";
import ts from "typescript";
import { beforeAll, describe, expect, it } from "vitest";
import { listPieces, listTargets, targetFeatures } from "../../build/targets.mjs";
import {
  findLabels,
  findMissingGlobals,
  findNonAscii,
  findRegexQuestion,
  findBareReturnAtEnd,
  findNestedWith,
  findUnderscoreProps,
  findUseBeforeDeclaration,
  findVarBeforeDeclaration,
  parseES5,
} from "./checks";
import { dist, ensureBuilt, root } from "./built";

const targets: string[] = listTargets(path.join(root, "targets"));
const boards = targets.filter((t) => targetFeatures(root, t).ESPRUINO);
const pieces: string[] = listPieces(path.join(root, "src", "pieces"));
/**
 * A bundle per target and flavour; the compat bundle is checked too once a target has one, and
 * the pieces (mqttiny-<piece>.js and .min.js) of every Espruino target.
 */
const FLAVOURS = ["mqttiny.js", "mqttiny.min.js", "mqttiny-compat.min.js", ...pieces.flatMap((p) => [`mqttiny-${p}.js`, `mqttiny-${p}.min.js`])];
/** The piece a bundle file is, or undefined. */
const pieceOf = (f: string) => pieces.find((p) => f === `mqttiny-${p}.js` || f === `mqttiny-${p}.min.js`);
const SLACK = 16;

beforeAll(() => ensureBuilt(), 180_000);

const read = (t: string, f: string) => fs.readFileSync(path.join(dist, t, f), "utf8");
/** [target, file] for every bundle that exists (read at collection time, so build first). */
function bundles(): [string, string][] {
  ensureBuilt();
  return targets.flatMap((t) => FLAVOURS.filter((f) => fs.existsSync(path.join(dist, t, f))).map((f): [string, string] => [t, f]));
}

/** The source a bundle is built from: the target, or for the compat add-on src/compat.ts. */
const entryOf = (t: string, f: string) =>
  f.startsWith("mqttiny-compat") ? path.join("src", "compat.ts") : path.join("targets", t + ".ts");

/**
 * The names a module exports at run time, read from its source: what the bundle's `exports` must
 * hold. Types and const enums have no value at run time and are left out; FEATURES is the
 * build's, not the API.
 */
function runtimeExports(entry: string): string[] {
  const file = path.join(root, entry);
  const sf = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const names: string[] = [];
  const exported = (n: ts.Node) =>
    ts.canHaveModifiers(n) && (ts.getModifiers(n) || []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
  for (const st of sf.statements) {
    if (ts.isVariableStatement(st) && exported(st)) {
      for (const d of st.declarationList.declarations) if (ts.isIdentifier(d.name)) names.push(d.name.text);
    } else if ((ts.isFunctionDeclaration(st) || ts.isClassDeclaration(st)) && exported(st) && st.name) {
      names.push(st.name.text);
    } else if (ts.isEnumDeclaration(st) && exported(st) && !(ts.getModifiers(st) || []).some((m) => m.kind === ts.SyntaxKind.ConstKeyword)) {
      names.push(st.name.text);
    } else if (ts.isExportDeclaration(st) && !st.isTypeOnly && st.exportClause && ts.isNamedExports(st.exportClause)) {
      for (const e of st.exportClause.elements) if (!e.isTypeOnly) names.push(e.name.text);
    }
  }
  return names.filter((n) => n !== "FEATURES").sort();
}

/**
 * Runs module text the way Espruino's Modules.addCached does: only `exports` and `module` exist,
 * and for a piece a `require("mqttiny")` that gives `core` (the exports of its target's bundle).
 */
function load(src: string, style: "function" | "string", core?: Record<string, unknown>): Record<string, unknown> {
  const exports = {};
  const module = { exports };
  const require = (id: string) => {
    if (id === "mqttiny" && core) return core;
    throw new Error(`Module ${id} not found`);
  };
  const context = vm.createContext(core ? { exports, module, require } : { exports, module });
  // addCached("mqttiny", function(){ <source> }) runs the source as a function body;
  // addCached("mqttiny", "<source>") and Storage run it as text in the module's scope.
  const code = style === "function" ? `(function(){\n${src}\n})()` : src;
  vm.runInContext(code, context, { filename: `mqttiny (${style} style)` });
  return module.exports as Record<string, unknown>;
}

describe("every target has bundles", () => {
  it("targets/ has at least one target", () => {
    expect(targets.length).toBeGreaterThan(0);
  });
  it.each(targets)("%s: dist has mqttiny.js and mqttiny.min.js", (t) => {
    expect(fs.existsSync(path.join(dist, t, "mqttiny.js"))).toBe(true);
    expect(fs.existsSync(path.join(dist, t, "mqttiny.min.js"))).toBe(true);
  });
  it("src/pieces/ has pieces", () => {
    expect(pieces.length).toBeGreaterThan(0);
  });
  it.each(boards)("%s: dist has every piece, readable, minified and typed", (t) => {
    for (const p of pieces)
      for (const f of [`mqttiny-${p}.js`, `mqttiny-${p}.min.js`, `mqttiny-${p}.d.ts`]) expect(fs.existsSync(path.join(dist, t, f)), f).toBe(true);
  });
});

describe.each(bundles())("%s/%s", (t, f) => {
  const src = read(t, f);
  let ast: any;

  it("parses as ES5 script", () => {
    ast = parseES5(src); // throws with line:column
  });
  const checked = (find: (ast: any) => string[]) => () => {
    expect(find(ast ?? parseES5(src))).toEqual([]);
  };
  it("has no labels", checked(findLabels));
  it("uses no global, method or TypeScript helper that Espruino lacks", checked(findMissingGlobals));
  it("uses no function before its declaration has run", checked(findUseBeforeDeclaration));
  it("uses no var before its declaration has run", checked(findVarBeforeDeclaration));
  it("is ASCII outside comments", () => expect(findNonAscii(src)).toEqual([]));
  it("has no feature switch left unreplaced", () => {
    expect(src).not.toMatch(/__(ESPRUINO|QOS1|QOS2|TLS)__/);
  });
  it("has no 'use strict', __esModule marker or interop helper", () => {
    expect(src).not.toMatch(/use strict|__esModule|_interop|require\(['"]tslib/);
  });

  if (boards.includes(t)) it("uses no ? quantifier in a regular expression (Espruino's RegExp lacks it)", checked(findRegexQuestion));
  if (boards.includes(t)) it("has no bare return just before a function's closing brace (Espruino cannot parse it)", () => expect(findBareReturnAtEnd(parseES5(src), src)).toEqual([]));
  // The receive path (its type table, 0x2afc) and the publish path's size checks (the largest
  // Remaining Length; the 2-byte length bound) as top-level functions, not rebuilt per call.
  if (boards.includes(t) && f == "mqttiny.min.js")
    it("runs no per-chunk or per-publish function as a nested function expression", () => {
      expect(src).toContain("11004");
      expect(findNestedWith(parseES5(src), src, ["11004", "268435455", "16384"])).toEqual([]);
    });

  if (pieceOf(f)) {
    it.each(["function", "string"] as const)("loads after mqttiny with only exports, module and require (%s style), exporting nothing", (style) => {
      const core = load(read(t, f.endsWith(".min.js") ? "mqttiny.min.js" : "mqttiny.js"), "function");
      const P = (core.Client as any).prototype, before = { ...P };
      expect(Object.keys(load(src, style, core))).toEqual([]);
      // It patched the core's prototype: a method replaced or one added.
      expect(Object.keys(P).some((k) => P[k] !== before[k]), "the prototype is unchanged").toBe(true);
    });
  } else it.each(["function", "string"] as const)("loads with only exports and module (%s style)", (style) => {
    const entry = entryOf(t, f), exp = load(src, style), want = runtimeExports(entry);
    const lost = want.filter((n) => !(n in exp));
    expect(lost, `${entry} exports ${lost.join(", ")} but the bundle does not: a const enum or a ` +
      `type has no value at run time (export a value, or use \`export type\`)`).toEqual([]);
    expect(Object.keys(exp).sort(), `exports of ${entry}`).toEqual(want);
    if (!f.startsWith("mqttiny-compat")) expect(typeof exp.connect).toBe("function");
  });

  if (f.endsWith(".min.js")) {
    it("has every internal (_-prefixed) property mangled", checked(findUnderscoreProps));
  }
});

describe("Node", () => {
  const require = createRequire(import.meta.url);
  it.runIf(targets.includes("node")).each(["mqttiny.js", "mqttiny.min.js"])("require('dist/node/%s') exposes connect", (f) => {
    ensureBuilt();
    const m = require(path.join(dist, "node", f));
    expect(typeof m.connect).toBe("function");
  });
  it("dist/node/codec.js is the raw codec for scripts and benchmarks", () => {
    const codec = require(path.join(dist, "node", "codec.js"));
    for (const fn of ["encodeConnect", "encodePublish", "encodeSubscribe", "createDecoder", "feed"])
      expect(typeof codec[fn], fn).toBe("function");
    expect(fs.readFileSync(path.join(dist, "node", "codec.js"), "utf8")).not.toMatch(/__(ESPRUINO|QOS1|QOS2|TLS)__/);
  });
});

describe("size ratchet (build/budgets.json)", () => {
  const budgetsFile = path.join(root, "build", "budgets.json");
  const budgets = fs.existsSync(budgetsFile) ? JSON.parse(fs.readFileSync(budgetsFile, "utf8")) : {};
  const fix = "run `npm run size:update` and commit build/budgets.json";

  /** A budget per target ("<target>") and per piece of an Espruino target ("<target>/<piece>"). */
  const budgeted = [...targets, ...boards.flatMap((t) => pieces.map((p) => `${t}/${p}`))].sort();
  const fileOf = (key: string) => (key.includes("/") ? key.replace("/", "/mqttiny-") + ".min.js" : `${key}/mqttiny.min.js`);

  it("budgets name exactly the targets in targets/ and their pieces", () => {
    expect(Object.keys(budgets).sort(), `targets or pieces without a budget, or budgets without one: ${fix}`).toEqual(budgeted);
  });

  it.each(budgeted)("%s: minified and gzip sizes are within the budget, and a shrink lowers it", (t) => {
    const min = fs.readFileSync(path.join(dist, fileOf(t)));
    const size = { min: min.length, gzip: zlib.gzipSync(min, { level: 9 }).length };
    const b = budgets[t];
    expect(b, `no budget for ${t}: ${fix}`).toBeDefined();
    for (const k of ["min", "gzip"] as const) {
      expect(size[k], `${t} ${k} ${size[k]} B is over its budget of ${b[k]} B: make it smaller, or if the growth is ` +
        `worth it, ${fix} and say why in the commit`).toBeLessThanOrEqual(b[k]);
      expect(size[k], `${t} ${k} ${size[k]} B is more than ${SLACK} B under its budget of ${b[k]} B: lock the gain in, ${fix}`)
        .toBeGreaterThanOrEqual(b[k] - SLACK);
    }
  });
});
