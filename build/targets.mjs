// What a board target is: targets/<name>.ts, whose `export const FEATURES = {...}` says which
// build-time switches are on. Read with the TypeScript parser rather than a regex, so a comment,
// a line break or `as const` cannot make the build silently pick the wrong features.
import fs from "node:fs";
import path from "node:path";
import ts from "typescript";

/** FEATURES key -> the global identifier (src/defines.d.ts) the build replaces with a literal. */
export const SWITCHES = { ESPRUINO: "__ESPRUINO__", QOS1: "__QOS1__", QOS2: "__QOS2__", TLS: "__TLS__" };

/** Minified-size goals in bytes; a miss is reported, not fatal. Targets absent here have none. */
export const GOALS = {
  "espruino-lite": 3000,
  "espruino-esp8266": 3500,
  "espruino-esp32": 4500,
  "espruino-stm32": 4500,
};

/**
 * The board targets whose core is wrapped by pretokenised() (build/minify.mjs): those meant to be
 * loaded the Web IDE way too. It lowers that load's peak and cost; from Storage it changes nothing
 * and costs 203 bytes, and the ESP8266 and lite bundles are loaded from Storage (the Web IDE way
 * runs out of memory on an ESP8266).
 */
export const PRETOKENISED = ["espruino-esp32", "espruino-stm32"];

/** Target names (file names without .ts in `dir`), sorted so every build runs in the same order. */
export function listTargets(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
    .map((f) => f.slice(0, -3))
    .sort();
}

/**
 * The pieces in `dir` (src/pieces/): every <name>.ts (not .d.ts) that exports a function named
 * <name>, which patches the core's prototype. Sorted, so every build runs in the same order; read
 * with the TypeScript parser, so a helper module in the folder is not taken for a piece.
 */
export function listPieces(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
    .map((f) => f.slice(0, -3))
    .filter((name) => {
      const file = path.join(dir, name + ".ts");
      const sf = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
      return sf.statements.some((st) =>
        ts.isFunctionDeclaration(st) && st.name?.text === name && st.body &&
        (ts.getModifiers(st) || []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword));
    })
    .sort();
}

/**
 * The FEATURES of a target's source text as { ESPRUINO, QOS1, QOS2, TLS } booleans. Throws, naming the
 * file and line, unless it is exactly one exported const object literal of those three keys with
 * the literals true/false.
 */
export function readFeatures(text, fileName) {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const where = (node) => `${fileName}:${sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1}`;
  let decl, stmt;
  for (const st of sf.statements) {
    if (!ts.isVariableStatement(st)) continue;
    for (const d of st.declarationList.declarations) {
      if (ts.isIdentifier(d.name) && d.name.text === "FEATURES") {
        if (decl) throw new Error(`${where(d)}: FEATURES declared twice`);
        decl = d;
        stmt = st;
      }
    }
  }
  const shape = "export const FEATURES = { ESPRUINO: true|false, QOS1: true|false, QOS2: true|false, TLS: true|false };";
  if (!decl) throw new Error(`${fileName}: no FEATURES; a target needs \`${shape}\``);
  const exported = (ts.getModifiers(stmt) || []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
  if (!exported || !(stmt.declarationList.flags & ts.NodeFlags.Const))
    throw new Error(`${where(decl)}: FEATURES must be declared as \`${shape}\``);
  let init = decl.initializer;
  // `{...} as const` and `({...})` mean the same object.
  while (init && (ts.isAsExpression(init) || ts.isSatisfiesExpression(init) || ts.isParenthesizedExpression(init)))
    init = init.expression;
  if (!init || !ts.isObjectLiteralExpression(init))
    throw new Error(`${where(decl)}: FEATURES must be an object literal: \`${shape}\``);
  const features = {};
  for (const p of init.properties) {
    const key = ts.isPropertyAssignment(p) && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)) ? p.name.text : null;
    if (key == null) throw new Error(`${where(p)}: FEATURES entries must be \`KEY: true\` or \`KEY: false\``);
    if (!Object.hasOwn(SWITCHES, key))
      throw new Error(`${where(p)}: unknown feature ${key}; known: ${Object.keys(SWITCHES).join(", ")}`);
    if (Object.hasOwn(features, key)) throw new Error(`${where(p)}: feature ${key} given twice`);
    const k = p.initializer.kind;
    if (k !== ts.SyntaxKind.TrueKeyword && k !== ts.SyntaxKind.FalseKeyword)
      throw new Error(`${where(p)}: feature ${key} must be the literal true or false`);
    features[key] = k === ts.SyntaxKind.TrueKeyword;
  }
  const missing = Object.keys(SWITCHES).filter((k) => !Object.hasOwn(features, k));
  if (missing.length) throw new Error(`${where(init)}: FEATURES lacks ${missing.join(", ")}`);
  return features;
}

/** readFeatures of targets/<name>.ts under `root`. */
export function targetFeatures(root, name) {
  const file = path.join(root, "targets", name + ".ts");
  return readFeatures(fs.readFileSync(file, "utf8"), path.relative(root, file));
}
