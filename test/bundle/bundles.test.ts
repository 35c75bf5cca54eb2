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
import { listTargets } from "../../build/targets.mjs";
import {
  findLabels,
  findMissingGlobals,
  findNonAscii,
  findUnderscoreProps,
  findUseBeforeDeclaration,
  parseES5,
} from "./checks";
import { dist, ensureBuilt, root } from "./built";

const targets: string[] = listTargets(path.join(root, "targets"));
/** A bundle per target and flavour; the compat bundle is checked too once a target has one. */
const FLAVOURS = ["mqttiny.js", "mqttiny.min.js", "mqttiny-compat.min.js"];
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

/** Runs module text the way Espruino's Modules.addCached does: only `exports` and `module` exist. */
function load(src: string, style: "function" | "string"): Record<string, unknown> {
  const exports = {};
  const module = { exports };
  const context = vm.createContext({ exports, module });
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
  it("is ASCII outside comments", () => expect(findNonAscii(src)).toEqual([]));
  it("has no feature switch left unreplaced", () => {
    expect(src).not.toMatch(/__(ESPRUINO|QOS1|TLS)__/);
  });
  it("has no 'use strict', __esModule marker or interop helper", () => {
    expect(src).not.toMatch(/use strict|__esModule|_interop|require\(['"]tslib/);
  });

  it.each(["function", "string"] as const)("loads with only exports and module (%s style)", (style) => {
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
    expect(fs.readFileSync(path.join(dist, "node", "codec.js"), "utf8")).not.toMatch(/__(ESPRUINO|QOS1|TLS)__/);
  });
});

describe("size ratchet (build/budgets.json)", () => {
  const budgetsFile = path.join(root, "build", "budgets.json");
  const budgets = fs.existsSync(budgetsFile) ? JSON.parse(fs.readFileSync(budgetsFile, "utf8")) : {};
  const fix = "run `npm run size:update` and commit build/budgets.json";

  it("budgets name exactly the targets in targets/", () => {
    expect(Object.keys(budgets).sort(), `targets without a budget or budgets without a target: ${fix}`).toEqual(targets);
  });

  it.each(targets)("%s: minified and gzip sizes are within the budget, and a shrink lowers it", (t) => {
    const min = fs.readFileSync(path.join(dist, t, "mqttiny.min.js"));
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
