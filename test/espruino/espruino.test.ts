// The real-interpreter tier: every Espruino bundle in Espruino 2v29 for Linux with its boards' JsVar
// count, loaded the Web IDE way (repl) and from Storage (static), against aedes behind a proxy
// that drops, corrupts, floods and silences the link (test/espruino/run.mjs; the device program is
// test/espruino/program.js). Interpreter: $ESPRUINO_DIR, else ../shared/tools/espruino beside the
// repository; without it the tier is skipped (a failure when CI=true).
//
// Every bundle/variant/way must: load, run without a memory error, pass every check, and stay under
// its ceilings in budgets.json. What fails today is listed in KNOWN_FAILING (one place): those
// checks run as it.fails, which turns red as soon as one passes, so delete its entry then.
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt } from "../bundle/built";
import { esp, withEspruino } from "./tier";
// @ts-ignore: a plain ES module shared with `npm run bench -- espruino`
import { COMBOS, limiter, pieceCosts, piecesOf, recordChecks, runScenario, table, writeRecords } from "./run.mjs";

const budgets = JSON.parse(fs.readFileSync(path.join(__dirname, "budgets.json"), "utf8"));

const OOM_LOAD = "the 8.6 KB bundle runs out of memory while Modules.addCached loads it (the Web IDE way)";
/**
 * Checks at the edge of a board's JsVars, whose pass or fail turns on a few of them: neither
 * asserted nor counted as failing (that would make the tier flaky), the figures still show. None
 * today: since packets and the outbox are strings on Espruino, the ESP8266 runs every phase with
 * over 600 JsVars free at the end.
 */
const EDGE: Record<string, string> = {};

/**
 * What fails today, "<bundle>/<variant>/<way>:<check>", "*" for any bundle/variant/way or any check;
 * the value says why. Checks: load, memory, url-mqtt, connect, subscribe, roundtrip, drop,
 * resend, malformed, oversize, silence, after, end, form-tcp, form-options, form-noport, and
 * budget:<figure>.
 */
export const KNOWN_FAILING: Record<string, string> = {
  "esp8266/esp8266/repl:*": OOM_LOAD,
  "lite/esp8266/repl:*": OOM_LOAD,
};

function knownFailing(key: string, check: string): string | undefined {
  return KNOWN_FAILING[`${key}:${check}`] ?? KNOWN_FAILING[`${key}:*`] ?? KNOWN_FAILING[`*:${check}`];
}

/** The ceilings set for `key` (null ones are not asserted). */
function ceilings(key: string): [string, number][] {
  return Object.entries(budgets.ceilings[key] ?? {}).filter((e): e is [string, number] => typeof e[1] === "number");
}

const TEST_TIMEOUT = 180_000;

/** The lines of a run worth reading when a check fails: markers and interpreter errors. */
function excerpt(rec: any): string {
  const keep = rec.output.filter((l: string) => /^@@|^===|ERROR|Uncaught|MEMORY|Interrupted/i.test(l) && !l.startsWith("@@MEM boot"));
  return `\n--- ${rec.key} (run output, markers only)\n${keep.slice(-60).join("\n")}`;
}

withEspruino("espruino tier: bundles in the real interpreter", () => {
    const runs = new Map<string, Promise<any>>();
    const limit = limiter(2);

    beforeAll(() => {
      ensureBuilt();
      // all runs start here, two at a time; each test waits for its own
      for (const c of COMBOS) {
        const p = limit(() => runScenario({ bundle: c.bundle, variant: c.variant, way: c.way, dir: esp.dir }));
        p.catch(() => {});
        runs.set(c.key, p);
      }
    });

    afterAll(async () => {
      const recs = (await Promise.allSettled([...runs.values()])).flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
      if (!recs.length) return;
      const file = writeRecords(recs);
      console.log(`espruino tier (figures in JsVars; written to ${path.relative(process.cwd(), file)}):\n${table(recs)}`);
    }, TEST_TIMEOUT);

    // Each piece loads after its core the way an app loads it, without a memory error, and costs
    // what the bench prints (npm run bench -- espruino).
    for (const [target, variant, way] of [["espruino-esp8266", "esp8266", "static"], ["espruino-stm32", "pico", "repl"]]) {
      it(`every piece of ${target} loads after it on ${variant} (${way})`, async () => {
        ensureBuilt();
        const got = await pieceCosts({ dir: esp.dir, target, variant, way });
        console.log(`pieces of ${target} on ${variant} (${way}), JsVars each adds: ` + got.map((p: any) => `${p.piece} ${p.cost}`).join(", "));
        expect(got.map((p: any) => p.piece)).toEqual(piecesOf(target));
        for (const p of got) {
          expect(p.loaded, `${p.piece} did not load`).toBe(true);
          expect(p.cost, `${p.piece}: no cost`).toBeGreaterThan(0);
        }
      }, TEST_TIMEOUT);
    }

    for (const c of COMBOS) {
      describe(c.key, () => {
        for (const check of recordChecks(c.bundle) as string[]) {
          const why = knownFailing(c.key, check);
          const edge = EDGE[`${c.key}:${check}`];
          const t = edge ? it.skip : why ? it.fails : it;
          t(edge ? `${check} (not asserted: ${edge})` : why ? `${check} (KNOWN FAILING: ${why})` : check, async () => {
            const rec = await runs.get(c.key)!;
            const r = rec.checks[check];
            expect(r, `no result for ${check}`).toBeDefined();
            expect(r.pass, `${c.key} ${check}: ${r.why}${excerpt(rec)}`).toBe(true);
          }, TEST_TIMEOUT);
        }
        for (const [figure, ceiling] of ceilings(c.key)) {
          const check = `budget:${figure}`;
          const why = knownFailing(c.key, check);
          const t = why ? it.fails : it;
          t(`${figure} <= ${ceiling} JsVars${why ? ` (KNOWN FAILING: ${why})` : ""}`, async () => {
            const rec = await runs.get(c.key)!;
            const v = rec.figures[figure];
            expect(v, `${c.key}: no figure ${figure}${excerpt(rec)}`).not.toBeNull();
            expect(v, `${c.key}: ${figure} ${v} over its ceiling ${ceiling} (test/espruino/budgets.json)`).toBeLessThanOrEqual(ceiling);
          }, TEST_TIMEOUT);
        }
      });
    }
  });
