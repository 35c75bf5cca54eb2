// The real-interpreter tests' shared opening: a describe() that runs when the Espruino interpreter
// is there ($ESPRUINO_DIR, or ../shared/tools/espruino beside the repository), skips with one
// visible line when it is not, and fails instead under CI=true (which installs everything).
import { describe, it } from "vitest";
// @ts-ignore: a plain ES module shared with `npm run bench -- espruino`
import { findEspruino } from "./run.mjs";

export const esp = findEspruino();

/** describe(name, body) over the interpreter in `esp.dir`, or the skip or CI failure. */
export function withEspruino(name: string, body: () => void): void {
  if (esp.found) describe(name, body);
  else if (process.env.CI !== "true") {
    console.log(`${name}: skipped, ${esp.why}`);
    describe.skip(`${name} (skipped: ${esp.why})`, () => {
      it("needs the interpreter", () => {});
    });
  } else
    describe(name, () => {
      it("finds the Espruino interpreter (required when CI=true)", () => {
        throw new Error(esp.why);
      });
    });
}
