// dist/ matching the sources, for whatever runs the built bundles (tests, benchmarks, npm run sim):
// rebuilds when a source is newer than the last build. A lock directory keeps parallel workers
// from building at once (a second build would rewrite files the first one's readers are using).
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const dist = path.join(root, "dist");
/** Written last by build/build.mjs: its time is the time of the last complete build. */
const stamp = path.join(dist, "sizes.json");
const inputs = ["src", "targets", "build", "tsconfig.json", "package.json"];

function newest(p) {
  if (!fs.existsSync(p)) return 0;
  const st = fs.statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...fs.readdirSync(p).map((f) => newest(path.join(p, f))));
}

/** A complete earlier build exists. */
export const built = () => ["node/mqttiny.js", "node/codec.js", "sizes.json"].every((f) => fs.existsSync(path.join(dist, f)));
const fresh = () => built() && inputs.every((i) => newest(path.join(root, i)) <= fs.statSync(stamp).mtimeMs);

/**
 * Runs build/build.mjs unless dist/ is up to date; throws with the build's output if it fails.
 * `typecheck: false` leaves types to `npm run build` (CI runs it first); `fallback: true` measures
 * a previous build, with a warning, when the sources do not build (someone's work in progress).
 */
export function ensureBuilt({ typecheck = true, fallback = false, log = false } = {}) {
  if (fresh()) return;
  fs.mkdirSync(dist, { recursive: true });
  const lock = path.join(dist, ".build-lock");
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch (e) {
      if (e.code !== "EEXIST") throw e;
      // A lock left by a killed run: a build takes seconds, not minutes.
      try {
        if (Date.now() - fs.statSync(lock).mtimeMs > 120_000) fs.rmdirSync(lock);
      } catch {}
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    if (fresh()) return; // another worker built while this one waited
    if (log) console.error(built() ? "dist/ is older than the sources: building" : "dist/ is missing: building");
    const args = [path.join(root, "build", "build.mjs")];
    if (!typecheck) args.push("--no-typecheck");
    execFileSync(process.execPath, args, { cwd: root, encoding: "utf8", stdio: "pipe" });
  } catch (e) {
    const out = `${e.stdout ?? ""}${e.stderr ?? e.message}`.trim();
    if (!fallback || !built()) throw new Error(`build/build.mjs failed:\n${out}`);
    console.error(`WARNING: build/build.mjs failed; using the previous build in dist/:\n${out.split("\n").slice(0, 8).join("\n")}`);
  } finally {
    fs.rmdirSync(lock);
  }
}
