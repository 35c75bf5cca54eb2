// The steps of the build, as functions of a project root so tests can run them on small fixtures.
//
// One TypeScript program compiles every source once (const enums need the whole program to be
// inlined); per target, rollup joins the modules after the feature switches are replaced with
// literals, so rollup and then terser drop the code that a board does not use.
import path from "node:path";
import zlib from "node:zlib";
import * as acorn from "acorn";
import { rollup } from "rollup";
import ts from "typescript";
import { SWITCHES } from "./targets.mjs";

export { minifyForBoard } from "./minify.mjs";

/**
 * Compiles every file of `root`/tsconfig.json to ES5 modules in memory. Returns the JS of each
 * .ts file by absolute path, and `typeErrors()`, the type errors as text ("" when none): a full
 * check costs seconds that emitting does not need, so the build runs it while terser works.
 */
export function compile(root) {
  const configPath = path.join(root, "tsconfig.json");
  const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => "\n" };
  const read = ts.readConfigFile(configPath, ts.sys.readFile);
  if (read.error) throw new Error(ts.formatDiagnostics([read.error], host));
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, root, {
    // The tsconfig is for type checking (noEmit); these make it emit what rollup joins.
    noEmit: false,
    target: ts.ScriptTarget.ES5,
    module: ts.ModuleKind.ESNext,
    declaration: false,
    sourceMap: false,
    inlineSourceMap: false,
    importHelpers: false, // a helper, if one were ever needed, lands in the bundle where tests flag it
    removeComments: false, // the readable bundle keeps the doc comments; terser drops them
  }, configPath);
  const program = ts.createProgram(parsed.fileNames, parsed.options);
  const js = new Map();
  program.emit(undefined, (name, text) => {
    if (name.endsWith(".js")) js.set(path.resolve(name.slice(0, -3) + ".ts"), text);
  });
  const typeErrors = () => {
    const diags = [...parsed.errors, ...ts.getPreEmitDiagnostics(program)];
    return diags.length ? ts.formatDiagnostics(diags, host) : "";
  };
  return { js, typeErrors };
}

/** Visits every ESTree node below `node` with its parent. */
function walk(node, parent, visit) {
  visit(node, parent);
  for (const key of Object.keys(node)) {
    const v = node[key];
    if (Array.isArray(v)) for (const c of v) c && typeof c.type === "string" && walk(c, node, visit);
    else if (v && typeof v.type === "string") walk(v, node, visit);
  }
}

/**
 * Replaces every reference to a feature switch with its literal; in the entry also drops the
 * `export` of FEATURES, which describes the build and is not part of the module's API.
 */
export function replaceSwitches(code, features, isEntry) {
  const literal = {};
  for (const [k, id] of Object.entries(SWITCHES)) literal[id] = String(features[k]);
  const edits = [];
  walk(acorn.parse(code, { ecmaVersion: "latest", sourceType: "module" }), null, (n, p) => {
    if (n.type === "Identifier" && Object.hasOwn(literal, n.name)) {
      const isName = (p.type === "MemberExpression" && p.property === n && !p.computed) ||
        (p.type === "Property" && p.key === n && !p.computed && !p.shorthand);
      if (!isName) edits.push([n.start, n.end, literal[n.name]]);
    } else if (isEntry && n.type === "ExportNamedDeclaration" && n.declaration?.type === "VariableDeclaration" &&
      n.declaration.declarations.some((d) => d.id.name === "FEATURES")) {
      edits.push([n.start, n.declaration.start, ""]);
    }
  });
  edits.sort((a, b) => b[0] - a[0]);
  for (const [s, e, text] of edits) code = code.slice(0, s) + text + code.slice(e);
  return code;
}

/**
 * Rollup's CommonJS output of `entry` (a .ts path compiled into `js`) with the switches set by
 * `features`: plain `exports.x = x` lines, since an Espruino module sees only `exports`/`module`.
 */
export async function bundle(js, entry, features, banner = "") {
  const b = await rollup({
    input: entry,
    onwarn(w) {
      // Circular imports and unresolved modules are the kind of thing that breaks on a board.
      throw new Error(`rollup: ${w.message}`);
    },
    plugins: [{
      name: "mqttiny",
      resolveId(id, importer) {
        if (!importer) return id;
        if (!id.startsWith("."))
          this.error(`${importer}: imports "${id}"; a bundle may import only project files ` +
            `(call the platform's require() inside the function that needs it)`);
        const base = path.resolve(path.dirname(importer), id);
        for (const f of [base + ".ts", path.join(base, "index.ts")]) if (js.has(f)) return f;
        this.error(`${importer}: cannot resolve "${id}" among the files of tsconfig.json`);
      },
      load(id) {
        if (!js.has(id)) this.error(`${id} is not in tsconfig.json's files`);
        return js.get(id);
      },
      transform(code, id) {
        return { code: replaceSwitches(code, features, id === entry), map: null };
      },
    }],
  });
  const { output } = await b.generate({
    format: "cjs",
    exports: "named",
    esModule: false, // no Object.defineProperty(exports, "__esModule", ...)
    strict: false, // Espruino has no strict mode; the directive would only cost bytes
    freeze: false,
    externalLiveBindings: false,
    generatedCode: { preset: "es5", symbols: false },
    banner,
  });
  await b.close();
  return output[0].code;
}

/**
 * The property names `code` uses (member names, object literal keys, string keys in `o["k"]` and
 * `"k" in o`): what a bundle minified after it against the same objects must not give a new
 * internal property (minifyForBoard's `props.reserved`).
 */
export function propertyNames(code) {
  const names = new Set();
  const str = (n) => n && n.type === "Literal" && typeof n.value === "string" && names.add(n.value);
  walk(acorn.parse(code, { ecmaVersion: "latest", sourceType: "script" }), null, (n) => {
    if (n.type === "MemberExpression") n.computed ? str(n.property) : names.add(n.property.name);
    else if (n.type === "Property") n.key.type === "Identifier" ? names.add(n.key.name) : str(n.key);
    else if (n.type === "BinaryExpression" && n.operator === "in") str(n.left);
  });
  return [...names];
}

/** The sizes the budgets hold: bytes, and bytes gzipped at level 9. */
export function sizeOf(code) {
  return { min: Buffer.byteLength(code), gzip: zlib.gzipSync(code, { level: 9 }).length };
}
