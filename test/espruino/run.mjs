// The real-interpreter tier: runs the built Espruino bundles in Espruino 2v29 for Linux (with the
// boards' JsVar counts, see <ESPRUINO_DIR>/README.md) against an aedes broker behind a fault-
// injecting TCP proxy, all on 127.0.0.1. Used by test/espruino/espruino.test.ts and by
// `npm run bench -- espruino` (test/bench/espruino.mjs). Plain ES module so both can import it.
//
// Protocol (test/espruino/program.js is the device side; this file the Node side):
//   the program prints "@@PHASE <name>" when it enters a phase, and the Node side acts on it:
//     roundtrip  nothing (the program subscribes, publishes QoS 0 and QoS q, receives both)
//     drop       the proxy is armed: the client's next QoS 1 PUBLISH is recorded, not forwarded,
//                and the link is destroyed on both sides; then "go:drop" is published to the
//                program's topic (the program publishes "d1" at QoS 1 when it gets it). After the
//                reconnect the proxy must see "d1" again with DUP=1 and the same packet id.
//     malformed  a PUBLISH with QoS 3 (first byte 0x36) is written to the client
//     oversize   a PUBLISH bigger than every bundle's rxSize (OVERSIZE bytes), then "after-big",
//                both published through the broker at QoS 1
//     silence    the proxy stops forwarding both ways on the client's link without closing it
//     after, end nothing (the program publishes to itself, then ends)
//   then the program tries the other connect() forms (tcp://, options object, URL without port)
//   on its own and quits.
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

export const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, "../..");
const require = createRequire(import.meta.url);

/** The bundles and the variants their boards have (lite runs where the smallest boards are). */
export const BUNDLES = {
  esp8266: { target: "espruino-esp8266", variants: ["esp8266"], qos: 1 },
  lite: { target: "espruino-lite", variants: ["esp8266"], qos: 0 },
  esp32: { target: "espruino-esp32", variants: ["esp32", "pico"], qos: 1 },
  stm32: { target: "espruino-stm32", variants: ["pico"], qos: 1 },
};
/** `repl`: the Web IDE's Modules.addCached text; `static`: from Storage. */
export const WAYS = ["repl", "static"];
/** Every bundle x variant x way the tier runs, in a stable order. */
export const COMBOS = Object.entries(BUNDLES).flatMap(([bundle, b]) =>
  b.variants.flatMap((variant) => WAYS.map((way) => ({ bundle, variant, way, key: `${bundle}/${variant}/${way}` }))),
);
/** The checks a run reports (lite has no "drop": QoS 0 only). */
export const CHECKS = ["load", "memory", "url-mqtt", "connect", "subscribe", "roundtrip", "drop", "malformed", "oversize", "silence", "after", "end", "form-tcp", "form-options", "form-noport"];
export const checksFor = (bundle) => CHECKS.filter((c) => c !== "drop" || BUNDLES[bundle].qos === 1);
/** All checks a record of `bundle` holds: checksFor() plus "resend" (the proxy's view of the drop phase). */
export const recordChecks = (bundle) => (BUNDLES[bundle].qos === 1 ? [...checksFor(bundle), "resend"] : checksFor(bundle));

/** fn() with at most `n` running at once. */
export function limiter(n) {
  let running = 0;
  const queue = [];
  const pump = () => {
    while (running < n && queue.length) {
      const [fn, resolve, reject] = queue.shift();
      running++;
      Promise.resolve()
        .then(fn)
        .then(resolve, reject)
        .finally(() => {
          running--;
          pump();
        });
    }
  };
  return (fn) => new Promise((resolve, reject) => {
    queue.push([fn, resolve, reject]);
    pump();
  });
}
/** Bytes of payload of the oversize PUBLISH: over every rxSize (esp8266 512, stm32 1,536, esp32 2,048). */
export const OVERSIZE = 3000;
/** Seconds one Espruino run may take at most (run.sh stops it then). */
export const RUN_SECONDS = 45;

/**
 * The interpreter's directory: $ESPRUINO_DIR, else ../shared/tools/espruino beside the repository.
 * Returns { dir, found, why }.
 */
export function findEspruino(env = process.env) {
  const dir = path.resolve(root, env.ESPRUINO_DIR || path.join("..", "shared", "tools", "espruino"));
  const runSh = path.join(dir, "run.sh");
  if (!fs.existsSync(runSh)) return { dir, found: false, why: `no Espruino interpreter at ${dir} (set ESPRUINO_DIR to the directory holding run.sh)` };
  return { dir, found: true, why: "" };
}


// ---- broker ------------------------------------------------------------------------------------

/**
 * aedes on 127.0.0.1 (in this process), with packet ids continuing per client id across
 * connections (aedes 1.2 restarts them at random in a resumed session: see test/sim/broker.ts).
 */
export async function startBroker() {
  const { Aedes } = await import("aedes");
  const persistence = require("aedes-persistence")();
  const nextIds = {};
  const broker = await Aedes.createBroker({
    persistence,
    preConnect(client, packet, done) {
      const id = packet.clientId;
      nextIds[id] = nextIds[id] || 1;
      Object.defineProperty(client, "_nextId", { get: () => nextIds[id], set: (v) => (nextIds[id] = v), configurable: true });
      done(null, true);
    },
  });
  broker.on("error", () => {});
  const sockets = new Set();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => {});
    broker.handle(s);
  });
  await new Promise((r, j) => {
    server.once("error", j);
    server.listen(0, "127.0.0.1", r);
  });
  return {
    port: server.address().port,
    broker,
    /** Publishes through the broker, as another client would. */
    publish(topic, payload, qos = 0) {
      return new Promise((resolve) =>
        broker.publish({ cmd: "publish", topic, payload: Buffer.from(payload), qos, retain: false, dup: false }, () => resolve()),
      );
    },
    async close() {
      const closed = new Promise((r) => server.close(() => r()));
      for (const s of sockets) s.destroy();
      await closed;
      await new Promise((r) => broker.close(() => r()));
    },
  };
}

// ---- proxy -------------------------------------------------------------------------------------

/** Splits a byte stream into MQTT packets (fixed header + Remaining Length); null if incomplete. */
function takePacket(buf) {
  if (buf.length < 2) return null;
  let len = 0, mul = 1, i = 1;
  for (;;) {
    if (i >= buf.length) return null;
    const b = buf[i++];
    len += (b & 127) * mul;
    mul *= 128;
    if (!(b & 128)) break;
    if (i > 4) return { bad: true, size: buf.length }; // malformed: pass through as is
  }
  if (buf.length < i + len) return null;
  return { size: i + len, head: i };
}

/** What the proxy records of a client->broker packet. */
function describe(pkt, head) {
  const type = pkt[0] >> 4, flags = pkt[0] & 15;
  const d = { type, flags };
  if (type === 1) {
    // CONNECT: protocol name, level, flags, keepalive, client id
    let o = head;
    const pl = pkt.readUInt16BE(o);
    o += 2 + pl + 1;
    d.cleanSession = !!(pkt[o] & 2);
    o += 3;
    const il = pkt.readUInt16BE(o);
    d.clientId = pkt.subarray(o + 2, o + 2 + il).toString("latin1");
  } else if (type === 3) {
    const qos = (flags >> 1) & 3;
    let o = head;
    const tl = pkt.readUInt16BE(o);
    d.topic = pkt.subarray(o + 2, o + 2 + tl).toString("latin1");
    o += 2 + tl;
    d.qos = qos;
    d.dup = !!(flags & 8);
    if (qos > 0) {
      d.id = pkt.readUInt16BE(o);
      o += 2;
    }
    d.payload = pkt.subarray(o).toString("latin1");
  }
  return d;
}

/**
 * A TCP proxy on 127.0.0.1 to the broker that frames both directions into packets and can, per
 * client id: swallow the next QoS 1 PUBLISH and drop the link (armDrop), write bytes toward the
 * client between packets (inject), stop forwarding without closing (silence).
 */
export async function startProxy(brokerPort) {
  const links = new Set();
  /** Every client->broker PUBLISH and CONNECT seen: {link, clientId, type, ...}. */
  const log = [];
  let linkNo = 0;
  const armed = new Set();
  const server = net.createServer((a) => {
    const b = net.connect({ host: "127.0.0.1", port: brokerPort });
    const link = { no: ++linkNo, a, b, clientId: null, silent: false, closed: false };
    links.add(link);
    const end = () => {
      if (link.closed) return;
      link.closed = true;
      links.delete(link);
      a.destroy();
      b.destroy();
    };
    a.on("error", end).on("close", end);
    // a silenced link stays open toward the client also when the broker gives up on it (aedes
    // closes after 1.5 x keepalive without traffic): the client has to notice the silence itself
    const endB = () => (link.silent ? b.destroy() : end());
    b.on("error", endB).on("close", endB);
    let up = Buffer.alloc(0), down = Buffer.alloc(0);
    a.on("data", (d) => {
      up = Buffer.concat([up, d]);
      for (let p; !link.closed && (p = takePacket(up)); ) {
        const pkt = up.subarray(0, p.size);
        up = up.subarray(p.size);
        if (link.silent) continue;
        if (!p.bad) {
          const d = describe(pkt, p.head);
          if (d.type === 1) link.clientId = d.clientId;
          d.link = link.no;
          d.clientId = link.clientId;
          if (d.type === 1 || d.type === 3) log.push(d);
          if (d.type === 3 && d.qos === 1 && armed.has(link.clientId)) {
            armed.delete(link.clientId);
            d.swallowed = true;
            end();
            return;
          }
        }
        b.write(pkt);
      }
    });
    b.on("data", (d) => {
      down = Buffer.concat([down, d]);
      for (let p; !link.closed && (p = takePacket(down)); ) {
        const pkt = down.subarray(0, p.size);
        down = down.subarray(p.size);
        if (!link.silent) a.write(pkt);
      }
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const of = (clientId) => [...links].filter((l) => l.clientId === clientId);
  return {
    port: server.address().port,
    log,
    links: () => links.size,
    armDrop(clientId) { armed.add(clientId); },
    inject(clientId, bytes) {
      const ls = of(clientId);
      for (const l of ls) l.a.write(Buffer.from(bytes));
      return ls.length;
    },
    silence(clientId) {
      const ls = of(clientId);
      for (const l of ls) l.silent = true;
      return ls.length;
    },
    close() {
      for (const l of links) {
        l.a.destroy();
        l.b.destroy();
      }
      return new Promise((r) => server.close(() => r()));
    },
  };
}

// ---- one Espruino run --------------------------------------------------------------------------

const MEM_RE = /^@@MEM (\S+) usage=(\d+) free=(\d+) total=(\d+)/;
const FINAL_RE = /^=== ESPRUINO MEMORY (.*)$/;

/** Parses run.sh output lines into { mem, ok, fail, events, final, phases }. */
export function parseOutput(lines) {
  const r = { mem: {}, ok: {}, fail: {}, phases: [], final: null, done: false };
  for (const line of lines) {
    let m;
    if ((m = MEM_RE.exec(line))) r.mem[m[1]] = { usage: +m[2], free: +m[3], total: +m[4] };
    else if (line.startsWith("@@OK ")) {
      const [, name, ...info] = line.split(" ");
      if (!(name in r.ok)) r.ok[name] = info.join(" ");
    } else if (line.startsWith("@@FAIL ")) {
      const [, name, ...why] = line.split(" ");
      (r.fail[name] ||= []).push(why.join(" "));
    } else if (line.startsWith("@@PHASE ")) r.phases.push(line.slice(8).trim());
    else if (line.trim() === "@@DONE") r.done = true;
    else if ((m = FINAL_RE.exec(line))) {
      const f = {};
      for (const kv of m[1].trim().split(/\s+/)) {
        const i = kv.indexOf("=");
        if (i > 0) f[kv.slice(0, i)] = kv.slice(i + 1);
      }
      r.final = {
        total: +f.total,
        peakSampled: f.peak_sampled === "-" ? null : +f.peak_sampled,
        memoryErrors: f.memory_errors === "yes",
        exit: f.exit,
        hwm: f.hwm === "-" ? null : +f.hwm,
      };
    }
  }
  return r;
}

/**
 * Spawns run.sh. `modules` is [[name, path]]; `onLine(line)` sees every output line as it comes;
 * `vars`, when given, is run.sh's --vars; `flash`, run.sh's --flash (two runs with the same file are
 * a board that rebooted).
 * Resolves with { lines, code, ...parseOutput(lines) }; run.sh bounds the run at `seconds`, and a
 * kill after seconds + 15 guards run.sh itself.
 */
export function runEspruino({ dir, modules, script, variant, way, seconds = RUN_SECONDS, onLine, vars, flash }) {
  return new Promise((resolve, reject) => {
    const args = [path.join(dir, "run.sh"), "--load", way];
    if (vars) args.push("--vars", String(vars)); // fewer JsVars than the variant has
    if (flash) args.push("--flash", flash); // Storage kept in this file across runs: a reboot
    for (const [n, p] of modules) args.push("--module", `${n}=${p}`);
    args.push(script, variant, String(seconds));
    const child = spawn("bash", args, { stdio: ["ignore", "pipe", "pipe"], detached: true });
    const lines = [];
    let buf = "", err = "";
    const guard = setTimeout(() => {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {}
    }, (seconds + 15) * 1000);
    child.stdout.setEncoding("latin1");
    child.stdout.on("data", (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i).replace(/\r$/, "");
        buf = buf.slice(i + 1);
        lines.push(line);
        try {
          onLine?.(line);
        } catch (e) {
          lines.push(`run.mjs: onLine threw ${e}`);
        }
      }
    });
    child.stderr.setEncoding("latin1");
    child.stderr.on("data", (d) => (err += d));
    child.on("error", (e) => {
      clearTimeout(guard);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(guard);
      if (buf) lines.push(buf);
      if (err) lines.push(...err.split("\n").filter(Boolean).map((l) => `stderr: ${l}`));
      resolve({ lines, code, ...parseOutput(lines) });
    });
  });
}

// ---- one scenario: a bundle on a variant, loaded one way ---------------------------------------

const rand = () => Math.random().toString(36).slice(2, 8);

/**
 * Runs program.js with `bundle` (a key of BUNDLES) on `variant`, loaded `way`, against its own
 * broker and proxy. Returns the record: figures, checks ({name: {pass, why}}), the Node side's
 * view of the resend, and the output.
 */
export async function runScenario({ bundle, variant, way, dir = findEspruino().dir, seconds = RUN_SECONDS, bundlePath }) {
  const b = BUNDLES[bundle];
  const modules = [["mqttiny", bundlePath || path.join(root, "dist", b.target, "mqttiny.min.js")]];
  const load = await runLoad({ dir, modules, variant, way });
  const broker = await startBroker();
  const proxy = await startProxy(broker.port);
  const id = `mt${rand()}`;
  const topic = `mqttiny/espruino/${id}`;
  const cfg = { port: proxy.port, id, topic, qos: b.qos };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mqttiny-espruino-"));
  const script = path.join(tmp, "program.js");
  fs.writeFileSync(script, fs.readFileSync(path.join(here, "program.js"), "latin1").replace("var CFG = __CFG__;", `var CFG = ${JSON.stringify(cfg)};`), "latin1");
  const node = { injected: 0, silenced: 0, actions: [] };
  const act = async (phase) => {
    node.actions.push(phase);
    if (phase === "drop") {
      proxy.armDrop(id);
      await broker.publish(topic, "go:drop", 0);
    } else if (phase === "malformed") {
      // PUBLISH, QoS 3 (flags 0110), topic "a", id 1: always malformed [MQTT-3.3.1-4]
      node.injected = proxy.inject(id, [0x36, 0x05, 0x00, 0x01, 0x61, 0x00, 0x01]);
    } else if (phase === "oversize") {
      await broker.publish(topic, Buffer.alloc(OVERSIZE, 0x78), 1);
      await broker.publish(topic, "after-big", 1);
    } else if (phase === "silence") {
      node.silenced = proxy.silence(id);
    }
  };
  let run;
  try {
    run = await runEspruino({
      dir,
      modules,
      script,
      variant,
      way,
      seconds,
      onLine(line) {
        if (line.startsWith("@@PHASE ")) act(line.slice(8).trim()).catch((e) => node.actions.push(`error ${e}`));
      },
    });
  } finally {
    await proxy.close();
    await broker.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return record({ bundle, variant, way, id, topic, run, load, proxyLog: proxy.log, node });
}

/**
 * Loading alone, as load-cost.sh measures it: the interpreter's high-water mark of a run that only
 * requires the module is the peak while loading (the full run's mark also sees the client at work).
 */
export async function runLoad({ dir, modules, variant, way, seconds = 20, also }) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mqttiny-espruino-load-"));
  const script = path.join(tmp, "load.js");
  // `also`: a piece, required after the core as an app would (it patches the core when it runs).
  fs.writeFileSync(script, `var m = require("mqttiny");${also ? ` require(${JSON.stringify(also)});` : ""} print("@@LOADED " + typeof m); quit();\n`);
  try {
    const r = await runEspruino({ dir, modules, script, variant, way, seconds });
    const m = r.mem;
    const loaded = r.lines.some((l) => l.startsWith("@@LOADED object"));
    return {
      loaded: loaded && !(r.final && r.final.memoryErrors),
      memoryErrors: r.final ? r.final.memoryErrors : null,
      hwm: r.final ? r.final.hwm : null,
      cost: loaded && m["after-modules"] && m["before-modules"] ? m["after-modules"].usage - m["before-modules"].usage : null,
    };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** The pieces built for a target (dist/<target>/mqttiny-<piece>.min.js, the compat add-on aside). */
export function piecesOf(target) {
  return fs.readdirSync(path.join(root, "dist", target)).filter((f) => /^mqttiny-[a-z]+\.min\.js$/.test(f) && f != "mqttiny-compat.min.js").map((f) => f.slice(8, -7)).sort();
}

/**
 * What each piece costs beside its core, in JsVars: load cost of core + piece minus the core's own,
 * on `variant`, loaded `way`. [{piece, bytes, cost, hwm, loaded}].
 */
export async function pieceCosts({ dir, target, variant, way }) {
  const core = path.join(root, "dist", target, "mqttiny.min.js");
  const base = await runLoad({ dir, modules: [["mqttiny", core]], variant, way });
  return pool(piecesOf(target), 2, async (piece) => {
    const file = path.join(root, "dist", target, `mqttiny-${piece}.min.js`);
    const r = await runLoad({ dir, modules: [["mqttiny", core], [`mqttiny-${piece}`, file]], variant, way, also: `mqttiny-${piece}` });
    return { piece, bytes: fs.statSync(file).size, cost: r.cost != null && base.cost != null ? r.cost - base.cost : null, hwm: r.hwm, loaded: r.loaded };
  });
}

/** The client->broker PUBLISHes of "d1": the first swallowed, then the resend with DUP=1 and the same id. */
export function resendCheck(log, id) {
  const d1 = log.filter((p) => p.type === 3 && p.clientId === id && p.payload === "d1");
  if (!d1.length) return { pass: false, why: "the proxy saw no PUBLISH d1", seen: d1 };
  const [first, ...again] = d1;
  if (!first.swallowed) return { pass: false, why: "first d1 was not the one dropped", seen: d1 };
  if (first.dup || first.qos !== 1) return { pass: false, why: `first d1 qos=${first.qos} dup=${first.dup}`, seen: d1 };
  const re = again[0];
  if (!re) return { pass: false, why: "d1 was not sent again after the reconnect", seen: d1 };
  if (re.link === first.link) return { pass: false, why: "resend on the same link", seen: d1 };
  if (!re.dup) return { pass: false, why: `resend with DUP=0 (id ${re.id}, first id ${first.id})`, seen: d1 };
  if (re.id !== first.id) return { pass: false, why: `resend id ${re.id}, first id ${first.id}`, seen: d1 };
  return { pass: true, why: `id ${first.id} resent with DUP=1`, seen: d1 };
}

function record({ bundle, variant, way, id, run, load, proxyLog, node }) {
  const m = run.mem, f = run.final || {};
  const use = (l) => (m[l] ? m[l].usage : null);
  const diff = (a, b) => (a != null && b != null ? a - b : null);
  const checks = {};
  for (const name of checksFor(bundle)) {
    if (name === "load") {
      const inRun = use("after-require") != null, said = run.fail.load;
      checks.load = {
        pass: !!load.loaded && inRun && !said,
        why: !load.loaded ? `load-only run: ${load.memoryErrors ? "memory error" : "did not load"}` : !inRun ? "the module did not load in the full run" : said ? said.join("; ") : `cost ${load.cost}, peak ${load.hwm}`,
      };
      continue;
    }
    if (name === "memory") {
      checks.memory = { pass: f.memoryErrors === false, why: !run.final ? "no final line from run.sh" : f.memoryErrors ? `memory error (run hwm ${f.hwm} of ${f.total})` : "none" };
      continue;
    }
    const fails = run.fail[name];
    const passed = name in run.ok && !fails;
    checks[name] = { pass: passed, why: passed ? run.ok[name] : fails ? fails.join("; ") : "not reached" };
  }
  if (checks.drop) {
    const rc = resendCheck(proxyLog, id);
    checks.resend = { pass: rc.pass, why: rc.why };
    if (!rc.pass && checks.drop.pass) checks.drop = { pass: false, why: `device side passed, but ${rc.why}` };
  }
  if (node.injected === 0 && node.actions.includes("malformed")) checks.malformed = { pass: false, why: "no link to inject into" };
  if (node.silenced === 0 && node.actions.includes("silence")) checks.silence = { pass: false, why: "no link to silence" };
  const loaded = use("after-require") != null;
  const figures = {
    /** JsVars the module takes once loaded (after-modules - before-modules); null when it did not load. */
    loadCost: loaded ? diff(use("after-modules"), use("before-modules")) : null,
    /** The peak while loading (high-water mark of a load-only run); the total when it ran out. */
    loadHwm: load.hwm ?? null,
    /** The high-water mark of the whole run. */
    hwm: f.hwm ?? null,
    peakSampled: f.peakSampled ?? null,
    afterRequire: use("after-require"),
    afterConnect: use("after-connect"),
    afterRoundtrip: use("after-roundtrip"),
    clientState: diff(use("after-roundtrip"), use("after-require")),
    freeEnd: m.end ? m.end.free : null,
    total: f.total ?? null,
  };
  return {
    key: `${bundle}/${variant}/${way}`,
    bundle,
    variant,
    way,
    memoryErrors: f.memoryErrors ?? null,
    exit: f.exit ?? null,
    loadOnly: load,
    figures,
    checks,
    passed: Object.keys(checks).filter((k) => checks[k].pass),
    failed: Object.keys(checks).filter((k) => !checks[k].pass),
    proxyLog: proxyLog.map(({ payload, ...p }) => ({ ...p, payload: payload && payload.length > 40 ? `${payload.length} bytes` : payload })),
    nodeActions: node.actions,
    output: run.lines,
  };
}

/** Runs `fn` over `items` with at most `n` at once; results in order. */
export async function pool(items, n, fn) {
  const out = new Array(items.length);
  let i = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (i < items.length) {
        const k = i++;
        out[k] = await fn(items[k], k);
      }
    }),
  );
  return out;
}

/** Writes records to dist/bench/espruino.json (or `file`). */
export function writeRecords(records, file = path.join(process.env.BENCH_OUT ? path.resolve(process.env.BENCH_OUT) : path.join(root, "dist", "bench"), "espruino.json"), extra = {}) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const body = {
    part: "espruino",
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    loadavg: os.loadavg().map((x) => +x.toFixed(2)),
    ...extra,
    runs: records.map(({ output, proxyLog, ...r }) => ({ ...r, proxyLog })),
  };
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(body, null, 2) + "\n");
  fs.renameSync(tmp, file);
  return file;
}

/** The figures table as text rows (for the bench part and the test log). */
export function table(records) {
  const head = ["bundle/variant/way", "load cost", "load peak", "run hwm", "after connect", "after round trip", "client state", "free at end", "mem err", "passed", "failed"];
  const rows = records.map((r) => [
    r.key,
    r.figures.loadCost, r.figures.loadHwm, r.figures.hwm, r.figures.afterConnect, r.figures.afterRoundtrip, r.figures.clientState, r.figures.freeEnd,
    r.memoryErrors == null ? "-" : r.memoryErrors ? "yes" : "no",
    `${r.passed.length}/${r.passed.length + r.failed.length}`,
    r.failed.join(",") || "-",
  ].map((c) => (c == null ? "-" : String(c))));
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i === 0 || i === r.length - 1 ? c.padEnd(w[i]) : c.padStart(w[i]))).join(" | ");
  return [line(head), w.map((x) => "-".repeat(x)).join("-|-"), ...rows.map(line)].join("\n");
}

// node test/espruino/run.mjs [bundle/variant/way ...]: runs those (default all) and prints the table.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const want = process.argv.slice(2);
  const combos = want.length ? COMBOS.filter((c) => want.includes(c.key)) : COMBOS;
  const esp = findEspruino();
  if (!esp.found) {
    console.error(esp.why);
    process.exit(2);
  }
  const recs = await pool(combos, 2, async (c) => {
    const r = await runScenario({ ...c, dir: esp.dir });
    if (process.env.VERBOSE) console.log(`--- ${r.key}\n${r.output.join("\n")}`);
    return r;
  });
  console.log(table(recs));
}
