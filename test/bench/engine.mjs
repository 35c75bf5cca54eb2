// Part "engine": QuickJS memory (memory_used_size of the runtime) for each Espruino target's
// minified bundle, as a stand-in for a board's heap: before the module, after require(), after
// connect() made a client, once connected and subscribed, and after messages both ways.
//
// It uses the QuickJS board of test/engines/qjs/bridge.mjs (Espruino's globals, sockets bridged
// to real TCP, an embedded aedes) when that exists; otherwise a minimal shim here (exports,
// E.toString, timers, a socket that never connects) that gives the figures up to "client created".
//
//   node test/bench/engine.mjs
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { SMOKE, dist, ensureBuilt, fmtInt, machine, printTable, require, root, writeResult } from "./lib.mjs";

ensureBuilt();
const start = machine();
const TARGETS = ["espruino-lite", "espruino-esp8266", "espruino-esp32", "espruino-stm32"].filter((t) => fs.existsSync(path.join(dist, t, "mqttiny.min.js")));
const MESSAGES = SMOKE ? 10 : 100;
const QOS = (t) => (t === "espruino-lite" ? 0 : 1);

function until(cond, what, ms = 20000) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const iv = setInterval(() => {
      try {
        if (cond()) {
          clearInterval(iv);
          resolve();
        } else if (Date.now() - t0 > ms) {
          clearInterval(iv);
          reject(new Error(`timed out waiting for ${what}`));
        }
      } catch (e) {
        clearInterval(iv);
        reject(e);
      }
    }, 10);
  });
}

const pick = (m) => ({ memory_used_size: m.memory_used_size, malloc_size: m.malloc_size, obj_count: m.obj_count, str_count: m.str_count });

/** With test/engines/qjs/bridge.mjs: the whole life of a client on a simulated board. */
async function withBridge(bridge, target) {
  const mqtt = require("mqtt");
  const broker = await bridge.startBroker();
  const dev = await bridge.createDevice({ target, onPrint: () => {} });
  const peer = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, { clientId: `bench-peer-${target}`, reconnectPeriod: 0 });
  const q = QOS(target), figures = [];
  const mark = (label) => figures.push({ label, ...pick(dev.memory()) });
  try {
    figures.push({ label: "before the module", ...pick(dev.base) });
    dev.run(`var mqttiny = require("mqttiny");`);
    mark("after require");
    dev.run(`
var st = { up: 0, sub: 0, got: 0, done: 0, sent: 0, out: 0, want: 0, errors: [] };
var c = mqttiny.connect("mqtt://127.0.0.1:${broker.port}", { clientId: "bench-${target}" });
c.on("error", function (e) { st.errors.push(e.code); });
c.on("connect", function () { st.up++; });`);
    mark("client created");
    await until(() => dev.run("st.up") >= 1, "CONNACK");
    mark("connected");
    dev.run(`c.subscribe("bench/in", { qos: ${q}, handler: function () { st.got++; } }, function (e) { st.sub = e ? -1 : 1; });
function fin(e) { st.out--; if (!e) st.done++; else st.errors.push(e.code); more(); }
function more() { while (st.out < 2 && st.sent < st.want) { st.out++; st.sent++; c.publish("bench/out", "m" + st.sent + "-0123456789abcdef", { qos: ${q} }, fin); } }`);
    await until(() => dev.run("st.sub") !== 0, "SUBACK");
    mark("subscribed");
    let peerGot = 0;
    await peer.subscribeAsync("bench/out", { qos: q });
    peer.on("message", () => peerGot++);
    dev.run(`st.want += ${MESSAGES}; more();`);
    for (let i = 0; i < MESSAGES; i++) await peer.publishAsync("bench/in", `p${i}-0123456789abcdef`, { qos: q });
    await until(() => dev.run("st.got") >= MESSAGES && dev.run("st.done") >= MESSAGES && peerGot >= MESSAGES, "messages");
    mark(`after ${MESSAGES} messages each way`);
    const errors = [...dev.errors, ...dev.run("st.errors")];
    dev.run("c.end()");
    return { figures, errors };
  } finally {
    await peer.endAsync(true).catch(() => {});
    dev.dispose();
    await broker.close();
  }
}

/** Without the bridge: a minimal Espruino shim in QuickJS, no network. */
async function withShim(target) {
  const { getQuickJS } = await import("quickjs-emscripten");
  const QuickJS = await getQuickJS();
  const rt = QuickJS.newRuntime(), vm = rt.newContext();
  const memory = () => {
    const h = rt.computeMemoryUsage(), o = vm.dump(h);
    h.dispose();
    return pick(o);
  };
  const run = (code) => {
    const r = vm.evalCode(code);
    if (r.error) {
      const e = vm.dump(r.error);
      r.error.dispose();
      throw new Error(`${target}: ${JSON.stringify(e)}`);
    }
    r.value.dispose();
  };
  run(`var __t = [], E = { toString: function (a) { var s = ""; for (var i = 0; i < a.length; i++) s += String.fromCharCode(a[i]); return s; } };
function setTimeout(f) { __t.push(f); return __t.length; } var setInterval = setTimeout; function clearTimeout() {} var clearInterval = clearTimeout;
var __sock = { on: function () {}, write: function () { return false; }, end: function () {} };
function require(m) { if (m == "net" || m == "tls") return { connect: function () { return __sock; } }; return __mods[m]; }
var __mods = {};`);
  const figures = [{ label: "before the module", ...memory() }];
  run(`(function () { var exports = {}, module = { exports: exports };\n${fs.readFileSync(path.join(dist, target, "mqttiny.min.js"), "utf8")}\n__mods.mqttiny = module.exports; })();`);
  run(`var mqttiny = require("mqttiny");`);
  figures.push({ label: "after require", ...memory() });
  run(`var c = mqttiny.connect("mqtt://127.0.0.1:1883", { clientId: "bench" });`);
  figures.push({ label: "client created", ...memory() });
  vm.dispose();
  rt.dispose();
  return { figures, errors: [], note: "minimal shim: no network, so no figures after connecting" };
}

async function main() {
  const bridgeFile = path.join(root, "test", "engines", "qjs", "bridge.mjs");
  let bridge = null, how;
  try {
    if (fs.existsSync(bridgeFile) && process.env.BENCH_ENGINE_SHIM !== "1") bridge = await import(pathToFileURL(bridgeFile).href);
    if (typeof bridge?.createDevice !== "function" || typeof bridge?.startBroker !== "function") bridge = null;
  } catch (e) {
    console.error(`test/engines/qjs/bridge.mjs did not load (${e.message}); using the minimal shim`);
    bridge = null;
  }
  how = bridge ? "test/engines/qjs/bridge.mjs (board globals, real TCP to an embedded aedes)" : "minimal shim in test/bench/engine.mjs (no network)";
  console.log(`engine: QuickJS (quickjs-emscripten ${require("quickjs-emscripten/package.json").version}) memory_used_size per Espruino target, via ${how}`);
  const results = {};
  for (const t of TARGETS) {
    try {
      results[t] = bridge ? await withBridge(bridge, t) : await withShim(t);
    } catch (e) {
      if (!bridge) throw e;
      console.error(`${t}: the bridge failed (${e.message.split("\n")[0]}); using the minimal shim`);
      results[t] = { ...(await withShim(t)), bridgeError: e.message };
    }
  }
  const labels = [...new Set(Object.values(results).flatMap((r) => r.figures.map((f) => f.label)))];
  const at = (t, l) => results[t].figures.find((f) => f.label === l)?.memory_used_size;
  printTable(
    "QuickJS memory_used_size, bytes (deltas from the previous step in parentheses)",
    ["step", ...TARGETS],
    labels.map((l, i) => [l, ...TARGETS.map((t) => {
      const v = at(t, l), p = i ? at(t, labels[i - 1]) : null;
      return v == null ? "-" : `${fmtInt(v)}${p != null ? ` (${v - p >= 0 ? "+" : ""}${fmtInt(v - p)})` : ""}`;
    })]),
    [
      `messages: ${MESSAGES} each way, QoS 0 on espruino-lite (no QoS 1 there), QoS 1 elsewhere, a window of 2 publishes.`,
      "module = after require - before; client = connected - after require. QuickJS objects are larger than Espruino's 12-16 B variables:",
      "the figures compare targets and steps, they are not a board's free memory.",
      ...TARGETS.filter((t) => results[t].errors?.length).map((t) => `${t}: errors ${JSON.stringify(results[t].errors)}`),
      ...TARGETS.filter((t) => results[t].note).map((t) => `${t}: ${results[t].note}`),
    ],
  );
  const summaryRows = Object.fromEntries(TARGETS.map((t) => {
    const base = at(t, "before the module"), loaded = at(t, "after require"), conn = at(t, "connected") ?? at(t, "client created");
    return [t, { module: loaded - base, client: conn - loaded }];
  }));
  console.log(`\n${TARGETS.map((t) => `${t}: module ${fmtInt(summaryRows[t].module)} B, client ${fmtInt(summaryRows[t].client)} B`).join("; ")}`);
  writeResult("engine", { via: how, messages: MESSAGES, targets: results, summary: summaryRows }, start);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
