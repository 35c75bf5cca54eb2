// README.md's board examples in the real Espruino 2v29 interpreter (test/espruino/run.mjs), each
// loaded the way README's "On a board" section tells users: the ESP8266 and ESP32 bundles from
// Storage (`--load static`), the Pico/Espruino WiFi bundle the Web IDE way (`--load repl`); on the
// variant of the board its section is about (ESP8266 -> esp8266, Pico / Espruino WiFi -> pico,
// otherwise esp32). The block that pastes the bundle into Modules.addCached is the Web IDE way by
// itself: it runs by repl with the bundle pasted and no module. Pieces the example requires
// (mqttiny-handlers, mqttiny-events, mqttiny-compat, ...) are loaded beside mqttiny, the same way.
//
// test/espruino/readme-prelude.js goes in front of each example: fake Wi-Fi modules, a "net" that
// sends every connection to this test's aedes on 127.0.0.1, pins and serial ports the Linux build
// lacks, and quit() after RUN_MS. An example that uses setInterval, analogRead, digitalWrite or
// Serial1 is wrapped in a function whose parameters shadow them (its readings ten times faster).
// An example that needs none of it (the pasted Web IDE block) gets only the quit timer.
//
// Each example must: run without a memory error, an Uncaught line or a printed error; connect to
// the broker if it connects; publish if it publishes; and if it subscribes, get the "on" the test
// publishes at QoS 1 to each filter (PUBACK) and run what it does with it (a handler's pin write or
// print). What fails today is in KNOWN_FAILING (run as it.fails: delete the entry once it passes).
// Interpreter: $ESPRUINO_DIR, else ../shared/tools/espruino; without it the file is skipped with
// one line (a failure when CI=true).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { blocks, targetOf, type Block } from "../readme-blocks";
import { ensureBuilt } from "../bundle/built";
import { esp, withEspruino } from "./tier";
// @ts-ignore: a plain ES module shared with `npm run bench -- espruino`
import { limiter, root, runEspruino, startBroker } from "./run.mjs";



/** The bundle, variant and loading way of a block: its section's board, loaded as README says. */
function placeOf(b: Block): { target: string; variant: string; way: "repl" | "static"; pasted: boolean } {
  const pasted = /\/\* paste dist\/[\w-]+\/mqttiny\.min\.js here \*\//.test(b.code);
  const target = targetOf(b), variant = target == "espruino-esp8266" ? "esp8266" : target == "espruino-stm32" ? "pico" : "esp32";
  // The block that pastes the bundle is the Web IDE way itself; stm32 loads the Web IDE way,
  // the ESP8266 and ESP32 bundles from Storage.
  const way = pasted || target === "espruino-stm32" ? "repl" : "static";
  return { target, variant, way, pasted };
}

const README = fs.readFileSync(path.join(root, "README.md"), "utf8");
const BOARD = blocks(README, "js").filter((b) => !b.skip && !b.node);
const name = (b: Block) => `line ${b.line} (${b.heading})`;
/** The prelude without its comment lines (they would cost RAM typed at the REPL). */
const PRELUDE = fs.readFileSync(path.join(__dirname, "readme-prelude.js"), "latin1").split("\n").filter((l) => !l.startsWith("//")).join("\n");

/** ms the program runs (its readings come every second, see the prelude). */
const RUN_MS = 5000;

/**
 * README examples that do not work in the real interpreter today, "<heading>:<check>" (every
 * example of that section; "*" any check); the value says why. Checks: runs, connect, publish, subscribe, command.
 */
const KNOWN_FAILING: Record<string, string> = {
};

function knownFailing(b: Block, check: string): string | undefined {
  return KNOWN_FAILING[`${b.heading}:${check}`] ?? KNOWN_FAILING[`${b.heading}:*`];
}

/** What in an example needs the prelude's fakes. */
const NEEDS_BOARD = /\.connect\(|require\("(Wifi|EspruinoWiFi|ESP8266WiFi_0v25|net)"\)|\b(LED\d|A0|B6|B7|Serial1|E\.getTemperature)\b/;

/** Names the example sees as parameters of its wrapper function, from the prelude's __F. */
const SHADOWED = ["setInterval", "analogRead", "digitalWrite", "Serial1"];

/** The program run.sh gets: the prelude, then the example wrapped in the function of fakes. */
function program(b: Block, port: number): string {
  const code = b.code.replace(/\/\* paste dist\/([\w-]+)\/mqttiny\.min\.js here \*\//, (_m, t) =>
    fs.readFileSync(path.join(root, "dist", t, "mqttiny.min.js"), "latin1"));
  let prelude = PRELUDE.replaceAll("__PORT__", String(port)).replaceAll("__RUN_MS__", String(RUN_MS));
  // An example that touches neither the network nor the board gets only the prelude's quit timer:
  // the fakes cost RAM (the pasted bundle loads on the esp32 variant with ~200 JsVars to spare).
  if (!NEEDS_BOARD.test(b.code)) prelude = prelude.split("\n").find((l) => l.includes("@@END"))!;
  // Only an example that uses one of the shadowed names is wrapped: a wrapper function keeps its
  // whole text in RAM a second time at the REPL (the pasted bundle too).
  if (!SHADOWED.some((n) => new RegExp(`\\b${n}\\b`).test(b.code))) return `${prelude}\n${code}\n`;
  return [
    prelude,
    `(function (${SHADOWED.join(", ")}) {`,
    code,
    `})(${SHADOWED.map((n) => `__F.${n}`).join(", ")});`,
    "",
  ].join("\n");
}

/** The modules the example loads: mqttiny, and each piece it requires (never for the pasted block). */
function modulesOf(b: Block, target: string, pasted: boolean): [string, string][] {
  if (pasted) return [];
  const names = ["mqttiny"];
  for (const m of b.code.matchAll(/require\("(mqttiny-[\w-]+)"\)/g)) if (!names.includes(m[1])) names.push(m[1]);
  return names.map((n) => [n, path.join(root, "dist", target, `${n}.min.js`)]);
}

/** A topic that matches `filter`. */
const topicFor = (filter: string) => filter.replace(/#$/, "x").replace(/\+/g, "x");

/** One example's run: the interpreter's output and what the broker saw. */
async function runBlock(dir: string, b: Block) {
  const { target, variant, way, pasted } = placeOf(b);
  const broker = await startBroker();
  const w = { clients: [] as string[], subs: [] as string[], qos1: 0, pubs: [] as string[], acks: 0, commands: 0 };
  const bb = broker.broker;
  bb.on("client", (c: any) => w.clients.push(c.id));
  bb.on("ack", (_p: any, c: any) => c && w.acks++);
  bb.on("publish", (p: any, c: any) => c && w.pubs.push(p.topic));
  bb.on("subscribe", (s: any[], c: any) => {
    if (!c) return;
    w.subs.push(...s.map((x) => x.topic));
    w.qos1 += s.filter((x) => x.qos === 1).length;
    // a peer's command to each filter, once the SUBACK is out
    setTimeout(() => {
      for (const x of s) {
        w.commands++;
        bb.publish({ cmd: "publish", topic: topicFor(x.topic), payload: Buffer.from("on"), qos: 1, retain: false, dup: false }, () => {});
      }
    }, 200);
  });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mqttiny-readme-"));
  const script = path.join(tmp, `readme-${b.line}.js`);
  fs.writeFileSync(script, program(b, broker.port), "latin1");
  try {
    const run = await runEspruino({ dir, modules: modulesOf(b, target, pasted), script, variant, way, seconds: RUN_MS / 1000 + 20 });
    return { target, variant, way, w, run, key: `${target}/${variant}/${way}` };
  } finally {
    await broker.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Output lines that are the example's own (not run.sh's, the banner's or the prelude's markers). */
function programLines(lines: string[]): string[] {
  const i = lines.findIndex((l) => l.startsWith("@@MEM after-modules"));
  return lines.slice(i < 0 ? 0 : i + 1).filter((l) => l.trim() && !/^(run\.sh|===|espruino:|stderr:|@@)/.test(l));
}

const BAD_OUTPUT = /error|not sent|uncaught|refused|not found|memory/i;

const TEST_TIMEOUT = 180_000;

withEspruino("README.md board examples in the real Espruino interpreter", () => {
    const runs = new Map<number, Promise<any>>();
    const limit = limiter(2);

    beforeAll(() => {
      ensureBuilt();
      for (const b of BOARD) {
        const p = limit(() => runBlock(esp.dir, b));
        p.catch(() => {});
        runs.set(b.line, p);
      }
    }, TEST_TIMEOUT);

    it("finds the board examples", () => {
      expect(BOARD.length).toBeGreaterThanOrEqual(6);
      for (const h of ["ESP32", "ESP8266", "Espruino Pico and Espruino WiFi"]) expect(BOARD.some((b) => b.heading === h), h).toBe(true);
    });

    for (const b of BOARD) {
      const { target, variant, way } = placeOf(b);
      describe(`${name(b)} on ${target}, ${variant}, ${way}`, () => {
        const connects = /\.connect\(/.test(b.code) && /mqttiny/.test(b.code);
        const publishes = /\.publish\(/.test(b.code);
        const subscribes = /\.subscribe\(/.test(b.code);
        const checks: [string, (r: any) => void][] = [
          ["runs", (r) => {
            const own = programLines(r.run.lines);
            expect(r.run.final, "no final line from run.sh").not.toBeNull();
            expect(r.run.final.memoryErrors, "memory error").toBe(false);
            expect(r.run.lines.filter((l: string) => /Uncaught/.test(l)), "Uncaught").toEqual([]);
            expect(own.filter((l) => BAD_OUTPUT.test(l)), "printed errors").toEqual([]);
            expect(r.run.lines.some((l: string) => l.startsWith("@@END")), "the program ran to its end (quit)").toBe(true);
          }],
        ];
        if (connects) checks.push(["connect", (r) => expect(r.w.clients.length, "CONNECTs the broker accepted").toBeGreaterThan(0)]);
        if (publishes) checks.push(["publish", (r) => expect(r.w.pubs.length, "PUBLISHes the broker got").toBeGreaterThan(0)]);
        if (subscribes) {
          checks.push(["subscribe", (r) => {
            expect(r.w.subs.length, "SUBSCRIBEs the broker got").toBeGreaterThan(0);
            expect(r.w.acks, "PUBACKs of the commands sent at QoS 1").toBeGreaterThanOrEqual(r.w.qos1);
          }]);
          checks.push(["command", (r) => {
            const acted = r.run.lines.filter((l: string) => /^@@PIN |^command |^topic: /.test(l));
            expect(acted, "what the example does with a command (a pin write, a print)").not.toEqual([]);
          }]);
        }
        for (const [check, fn] of checks) {
          const why = knownFailing(b, check);
          const t = why ? it.fails : it;
          t(why ? `${check} (KNOWN FAILING: ${why})` : check, async () => {
            const r = await runs.get(b.line)!;
            try {
              fn(r);
            } catch (e: any) {
              e.message += `\n--- ${name(b)} ${r.key}: broker ${JSON.stringify(r.w)}\n${r.run.lines.filter((l: string) => !/^(@@MEM|@@PEAK)/.test(l)).slice(-40).join("\n")}`;
              throw e;
            }
          }, TEST_TIMEOUT);
        }
      });
    }
  });
