// Tests of built bundles need dist/ to match the sources. CI runs `npm run build` before
// `npm test`, so there this does nothing; locally it rebuilds when a source is newer than the last
// build. Any test file may call it: a lock directory keeps parallel vitest workers from building
// at once (a second build would rewrite files the first one's tests are reading).
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const dist = path.join(root, "dist");
/** Written last by build/build.mjs: its time is the time of the last complete build. */
const stamp = path.join(dist, "sizes.json");
const inputs = ["src", "targets", "build", "tsconfig.json", "package.json"];

function newest(p: string): number {
  if (!fs.existsSync(p)) return 0;
  const st = fs.statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...fs.readdirSync(p).map((f) => newest(path.join(p, f))));
}

function fresh(): boolean {
  if (!fs.existsSync(stamp)) return false;
  const built = fs.statSync(stamp).mtimeMs;
  return inputs.every((i) => newest(path.join(root, i)) <= built);
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Runs build/build.mjs unless dist/ is up to date; throws with the build's output if it fails. */
export function ensureBuilt(): void {
  if (fresh()) return;
  fs.mkdirSync(dist, { recursive: true });
  const lock = path.join(dist, ".build-lock");
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch (e: any) {
      if (e.code !== "EEXIST") throw e;
      // A lock left by a killed run: a build takes seconds, not minutes.
      try {
        if (Date.now() - fs.statSync(lock).mtimeMs > 120_000) fs.rmdirSync(lock);
      } catch {}
      sleep(200);
    }
  }
  try {
    if (fresh()) return; // another worker built while this one waited
    // Types are the business of `npm run build` (CI runs it first); a test needs only the bundles.
    execFileSync(process.execPath, [path.join(root, "build", "build.mjs"), "--no-typecheck"], { cwd: root, encoding: "utf8", stdio: "pipe" });
  } catch (e: any) {
    throw new Error(`build/build.mjs failed:\n${e.stdout ?? ""}${e.stderr ?? e.message}`);
  } finally {
    fs.rmdirSync(lock);
  }
}
