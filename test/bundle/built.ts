// Tests of built bundles need dist/ to match the sources. CI runs `npm run build` before
// `npm test`, so there this does nothing; locally it rebuilds when a source is newer than the last
// build (build/ensure-built.mjs, shared with the benchmarks).
// @ts-ignore: a plain ES module of the build
import { ensureBuilt as ensure, root as r, dist as d } from "../../build/ensure-built.mjs";

export const root: string = r;
export const dist: string = d;

/** Runs build/build.mjs (types left to `npm run build`) unless dist/ is up to date. */
export function ensureBuilt(): void {
  ensure({ typecheck: false });
}
