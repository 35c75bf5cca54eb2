// Every ```js block of README.md runs. Board blocks run on the QuickJS board (test/pack/board.ts)
// with the bundle of the board their section is about (ESP8266, Pico/Espruino WiFi, otherwise
// ESP32), Wi-Fi faked to call back connected, every socket sent to an aedes on 127.0.0.1, and the
// program's setInterval/setTimeout driven by a fake clock (a minute passes in a second); they must
// also pass the static checks the bundles pass (ES5, no labels, nothing Espruino lacks). A block
// after `<!-- run: node -->` runs in Node with require("mqttiny") the built node bundle. A block
// after `<!-- not-run: reason -->` is skipped; they are few and listed. A block that connects must
// connect; one that subscribes gets a message on each filter; one that publishes must publish;
// and none may throw, fault, or print an error.
import fs from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import path from "node:path";
import vm from "node:vm";
import { beforeAll, describe, expect, it } from "vitest";
import { blocks, targetOf, type Block } from "../readme-blocks";
import { ensureBuilt, dist, root } from "../bundle/built";
import { findLabels, findMissingGlobals, findUseBeforeDeclaration, parseES5 } from "../bundle/checks";
import { createBoard, sleep, startBroker, until } from "./board";


const README = fs.readFileSync(path.join(root, "README.md"), "utf8");



const JS = blocks(README, "js");
const RUN = JS.filter((b) => !b.skip);
const name = (b: Block) => `line ${b.line} (${b.heading})`;

/** Broker-side record of what one block's program did. */
function watch(broker: any) {
  const w = { clients: [] as string[], subs: [] as string[], qos1: 0, pubs: [] as string[], acks: 0 };
  broker.on("client", (c: any) => w.clients.push(c.id));
  // a QoS 1 message the program's client received and acknowledged
  broker.on("ack", (_p: any, c: any) => c && w.acks++);
  broker.on("subscribe", (s: any[], c: any) => {
    if (!c) return;
    w.subs.push(...s.map((x) => x.topic));
    w.qos1 += s.filter((x) => x.qos === 1).length;
  });
  broker.on("publish", (p: any, c: any) => c && w.pubs.push(p.topic));
  return w;
}

/** A topic that matches `filter`. */
const topicFor = (filter: string) => filter.replace(/#$/, "x").replace(/\+/g, "x");

/** Sends "on" to every filter the program subscribed, as a peer would. */
async function command(broker: any, w: ReturnType<typeof watch>): Promise<void> {
  for (const f of w.subs)
    await new Promise<void>((r) => broker.publish({ cmd: "publish", topic: topicFor(f), payload: Buffer.from("on"), qos: 1, retain: false, dup: false }, () => r()));
}

const BAD_OUTPUT = /error|not sent|uncaught|refused/i;

beforeAll(() => ensureBuilt(), 180_000);

describe("README.md", () => {
  it("has js examples, and skips few of them, each with a reason", () => {
    expect(RUN.length).toBeGreaterThanOrEqual(8);
    const skipped = JS.filter((b) => b.skip).map((b) => `${name(b)}: ${b.skip}`);
    console.log(`README: ${RUN.length} js blocks run, ${skipped.length} skipped:\n  ` + skipped.join("\n  "));
    expect(skipped.length).toBeLessThanOrEqual(2);
    for (const b of JS.filter((x) => x.skip)) expect(b.skip!.length, name(b)).toBeGreaterThan(5);
  });

  it("states the sizes the build makes now (within 10%): update the README's tables when they move", () => {
    const sizes = JSON.parse(fs.readFileSync(path.join(dist, "sizes.json"), "utf8"));
    for (const [t, s] of Object.entries<any>(sizes)) {
      const row = new RegExp(`^${t}\\s*\\|\\s*([\\d,]+)\\s*\\|\\s*([\\d,]+)`, "m").exec(README);
      expect(row, `README has no size row for ${t} (paste the table npm run build prints)`).not.toBeNull();
      const [min, gz] = [row![1], row![2]].map((x) => +x.replace(/,/g, ""));
      expect(Math.abs(min - s.min) / s.min, `${t}: README says ${min} B, the build makes ${s.min} B`).toBeLessThanOrEqual(0.1);
      expect(Math.abs(gz - s.gzip) / s.gzip, `${t}: README says ${gz} B gzip, the build makes ${s.gzip} B`).toBeLessThanOrEqual(0.1);
    }
  });

  describe.each(RUN.filter((b) => !b.node).map((b) => [name(b), b] as const))("board example at %s", (_n, b) => {
    const target = targetOf(b);
    // The Web IDE way: the block pastes the bundle where its placeholder comment stands.
    const code = b.code.replace(/\/\* paste dist\/([\w-]+)\/mqttiny\.min\.js here \*\//, (_m, t) =>
      fs.readFileSync(path.join(dist, t, "mqttiny.min.js"), "utf8"));

    it("is ES5 that Espruino runs: no labels, nothing it lacks, no function called before its declaration ran", () => {
      const ast = parseES5(b.code);
      expect([...findLabels(ast), ...findMissingGlobals(ast), ...findUseBeforeDeclaration(ast)]).toEqual([]);
    });

    it(`runs on the ${target} bundle against aedes: connects, subscribes, publishes, without errors`, async () => {
      const broker = await startBroker();
      const w = watch(broker.broker);
      const trace: string[] = [];
      const board = await createBoard(target, broker.port, (dir, p) => trace.push(`${dir} ${p.cmd} ${p.topic || ""} ${p.messageId || ""}`));
      try {
        board.run(code, { fakeTimers: true, file: `README.md:${b.line}` });
        const connects = /\.connect\(/.test(b.code) && /mqttiny/.test(b.code);
        const subscribes = /\.subscribe\(/.test(b.code);
        const publishes = /\.publish\(/.test(b.code);
        if (connects) await until(() => w.clients.length > 0, "the example's CONNECT");
        if (subscribes) await until(() => w.subs.length > 0, "the example's SUBSCRIBE");
        const before = w.pubs.length;
        // A minute of the program's time, a second at a time, with the network running between.
        for (let i = 0; i < 60; i++) {
          board.tick(1000);
          await sleep(10);
        }
        if (publishes) await until(() => w.pubs.length > 0, "the example's PUBLISH");
        if (publishes && /setInterval\(/.test(b.code)) await until(() => w.pubs.length >= before + 5, "a reading every 10 s of the program's minute");
        if (subscribes) {
          await command(broker.broker, w);
          await until(() => w.acks >= w.qos1, "the PUBACK of each command sent at QoS 1").catch((e) => {
            throw new Error(e.message + "\n" + JSON.stringify(w) + "\n" + board.lines.join("\n") + JSON.stringify(board.errors) + "\n" + trace.join("\n"));
          });
        }
        await sleep(300);
        expect(board.errors, "uncaught on the board").toEqual([]);
        expect(board.faults(), "Espruino platform misuse").toEqual([]);
        expect(board.lines.filter((l) => BAD_OUTPUT.test(l)), "printed errors").toEqual([]);
        if (connects) expect(board.run("__connects"), "sockets opened").toBeGreaterThan(0);
      } finally {
        board.dispose();
        await broker.close();
      }
    });
  });

  describe.each(RUN.filter((b) => b.node).map((b) => [name(b), b] as const))("Node example at %s", (_n, b) => {
    it("runs with require('mqttiny') the built node bundle against aedes: connects, subscribes, publishes, without errors", async () => {
      const broker = await startBroker();
      const w = watch(broker.broker);
      const lines: string[] = [], clients: any[] = [], timers: any[] = [];
      // The node bundle as npm gives it, its sockets sent to the test's broker.
      const req = createRequire(path.join(dist, "node", "mqttiny.js"));
      const mod: any = { exports: {} };
      const redirect = { ...net, connect: (o: any, cb?: any) => net.connect({ ...o, host: "127.0.0.1", port: broker.port }, cb) };
      new Function("exports", "require", "module", fs.readFileSync(path.join(dist, "node", "mqttiny.js"), "utf8"))(
        mod.exports, (id: string) => (id === "net" || id === "node:net" ? redirect : req(id)), mod);
      const mqttiny = { ...mod.exports, connect: (...a: any[]) => (clients.push(mod.exports.connect(...a)), clients[clients.length - 1]) };
      const log = (...a: any[]) => lines.push(a.map(String).join(" "));
      const fake = (fn: () => void, ms: number) => (timers.push({ fn, ms }), timers.length);
      const context = vm.createContext({
        require: (id: string) => (id === "mqttiny" ? mqttiny : req(id)),
        console: { log, error: log, warn: log },
        setInterval: fake, setTimeout: fake, clearInterval: () => {}, clearTimeout: () => {},
        process: { on: () => {}, exit: () => {}, env: {} }, Buffer,
      });
      try {
        vm.runInContext(b.code, context, { filename: `README.md:${b.line}` });
        await until(() => w.clients.length > 0, "the example's CONNECT");
        if (/\.subscribe\(/.test(b.code)) {
          await until(() => w.subs.length > 0, "the example's SUBSCRIBE");
          await command(broker.broker, w);
          await until(() => w.acks >= w.qos1, "the PUBACK of each command sent at QoS 1");
        }
        for (const t of timers) t.fn();
        if (/\.publish\(/.test(b.code)) await until(() => w.pubs.length > 0, "the example's PUBLISH");
        await sleep(300);
        expect(lines.filter((l) => BAD_OUTPUT.test(l)), "printed errors").toEqual([]);
      } finally {
        for (const c of clients) c.end(true);
        await broker.close();
      }
    });
  });
});
