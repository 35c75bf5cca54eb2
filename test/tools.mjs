// Programs that some test tiers need and npm does not install: mosquitto and its command-line
// clients, duktape (`duk`), python3 with paho-mqtt, openssl. .ci/run installs them all.
// On a machine without one, the tiers that need it are skipped, each with one line
//   SKIP <tier>: <program> not installed (apt-get install <package>)
// and everything else runs. Under CI (env CI set, and not "false" or "0") a missing program is
// a failure instead, so a CI run can never pass by skipping. Plain JS: the benchmark scripts,
// which run without vitest, use findProgram too.
import fs from "node:fs";
import path from "node:path";

/** Whether this is a CI run (.ci/run sets CI=true). */
export const CI = !!process.env.CI && process.env.CI !== "false" && process.env.CI !== "0";

/**
 * The absolute path of executable `name`, or null: PATH, then the sbin directories, which a
 * normal user's PATH lacks on Debian although `mosquitto` is installed in /usr/sbin.
 */
export function findProgram(name) {
  for (const d of [...(process.env.PATH || "").split(path.delimiter), "/usr/local/sbin", "/usr/sbin", "/sbin"]) {
    if (!d) continue;
    const f = path.join(d, name);
    try {
      fs.accessSync(f, fs.constants.X_OK);
      if (fs.statSync(f).isFile()) return f;
    } catch {}
  }
  return null;
}

/**
 * Whether `tier` must be skipped because a program it needs is missing. `missing` is the probe's
 * answer: null when the program is there and works, else why not, e.g. "openssl not installed
 * (apt-get install openssl)". Prints one line `SKIP <tier>: <missing>` and returns true; under CI
 * throws instead (at a test file's top level, that fails the file).
 * @param {string} tier
 * @param {string | null | undefined} missing
 * @returns {boolean}
 */
export function skipIfMissing(tier, missing) {
  if (!missing) return false;
  if (CI) throw new Error(`${tier}: ${missing}. Under CI this is a failure, not a skip: .ci/run installs every program the tests use.`);
  process.stdout.write(`SKIP ${tier}: ${missing}\n`);
  return true;
}
