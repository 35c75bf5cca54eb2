#!/usr/bin/env node
// QoS 1 both ways between a board in QuickJS and an MQTT.js peer, through an embedded aedes on
// 127.0.0.1, measuring the board runtime's memory_used_size along the way:
//   node test/engines/qjs/soak.mjs [esp8266|esp32|stm32 ...] [--rounds 3] [--n 1000]
// Each round: the board publishes n QoS 1 messages (a window of 4 outstanding; each callback must
// report the PUBACK) while the peer publishes n QoS 1 messages to the board's subscription.
import path from "node:path";
import { fileURLToPath } from "node:url";
import mqtt from "mqtt";
import { createDevice, startBroker } from "./bridge.mjs";

/** The board's program: plain ES5 as a user would upload it. */
function program(port) {
  return `
var mqtt = require("mqttiny");
require("mqttiny-stats"); // client.stats
require("mqttiny-handlers"); // subscribe(..., { handler })
var st = { subscribed: 0, got: 0, bad: 0, acked: 0, failed: 0, sent: 0, out: 0, want: 0, connects: 0, errors: [] };
var c = mqtt.connect("mqtt://127.0.0.1:${port}", { clientId: "qjs-soak", keepalive: 30 });
c.on("connect", function () { st.connects++; __host.report("connect", 0); });
c.on("error", function (e) { st.errors.push(e.code); });
var expect = 0;
c.subscribe("soak/in", { qos: 1, handler: function (t, p, k) {
  // payloads "<n>" in order, with a byte above 127 to prove the 8-bit path
  if (p !== "in" + expect + "\\xe9" || k.qos !== 1) st.bad++;
  expect++;
  st.got++;
} }, function (e) { st.subscribed = e ? e.code : 1; });
function done(e) {
  st.out--;
  if (e) st.failed++; else st.acked++;
  more();
}
function more() {
  while (st.out < 4 && st.sent < st.want) {
    st.out++;
    c.publish("soak/out", "out" + (st.sent++), { qos: 1 }, done);
  }
}
function send(n) { st.want += n; more(); }
`;
}

function until(cond, what, ms = 30000) {
  return new Promise((res, rej) => {
    const t0 = Date.now();
    const iv = setInterval(() => {
      let v;
      try {
        v = cond();
      } catch (e) {
        clearInterval(iv);
        return rej(e);
      }
      if (v) {
        clearInterval(iv);
        res(v);
      } else if (Date.now() - t0 > ms) {
        clearInterval(iv);
        rej(new Error("timed out waiting for " + what));
      }
    }, 20);
  });
}

/**
 * Runs the soak for `target`. Returns {target, figures: [{label, memory_used_size, malloc_size?,
 * obj_count, ...}], state, stats, peerGot, errors, faults}.
 */
export async function soak({ target = "espruino-esp8266", n = 1000, rounds = 3, log = () => {} } = {}) {
  const b = await startBroker();
  const dev = await createDevice({ target, onPrint: (l) => log("[board] " + l) });
  const peer = await mqtt.connectAsync(`mqtt://127.0.0.1:${b.port}`, { clientId: "soak-peer", clean: true, reconnectPeriod: 0 });
  const figures = [];
  const mark = (label) => {
    const m = dev.memory();
    figures.push({ label, memory_used_size: m.memory_used_size, malloc_size: m.malloc_size, obj_count: m.obj_count, str_count: m.str_count });
    log(`${target}: ${label}: memory_used_size ${m.memory_used_size}`);
  };
  let peerGot = 0, peerBad = 0;
  try {
    figures.push({ label: "runtime before the module", memory_used_size: dev.base.memory_used_size, obj_count: dev.base.obj_count });
    dev.run(`var mqttiny = require("mqttiny");`);
    mark("after load");
    await peer.subscribeAsync("soak/out", { qos: 1 });
    peer.on("message", (t, p) => {
      if (p.toString("latin1") !== "out" + peerGot) peerBad++;
      peerGot++;
    });
    dev.run(program(b.port));
    await until(() => dev.run("st.connects") >= 1, "CONNACK");
    await until(() => dev.run("st.subscribed") === 1, "SUBACK");
    mark("after connect");
    let sentIn = 0;
    for (let r = 1; r <= rounds; r++) {
      dev.run(`send(${n})`);
      const pubs = [];
      for (let i = 0; i < n; i++) pubs.push(peer.publishAsync("soak/in", Buffer.from("in" + sentIn++ + "\xe9", "latin1"), { qos: 1 }));
      await Promise.all(pubs);
      await until(() => {
        const s = dev.run("st");
        return s.got >= r * n && s.acked + s.failed >= r * n && peerGot >= r * n;
      }, `round ${r}`);
      mark(`after ${r * n} QoS 1 each way`);
    }
    const state = dev.run("st");
    const stats = dev.run("c.stats");
    dev.run("c.end()");
    await until(() => dev.run("__timers()") === 0, "end");
    return { target, figures, state, stats, peerGot, peerBad, errors: dev.errors.slice(), faults: dev.faults() };
  } finally {
    await peer.endAsync(true).catch(() => {});
    dev.dispose();
    await b.close();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (k, d) => {
    const i = args.indexOf(k);
    return i >= 0 ? +args.splice(i, 2)[1] : d;
  };
  const rounds = opt("--rounds", 3), n = opt("--n", 1000);
  const targets = args.length ? args.map((a) => (a.startsWith("espruino-") ? a : "espruino-" + a)) : ["espruino-esp8266"];
  for (const t of targets) {
    const r = await soak({ target: t, rounds, n });
    console.log(`${t}: state ${JSON.stringify(r.state)} stats ${JSON.stringify(r.stats)} peer got ${r.peerGot} (bad ${r.peerBad})`);
    for (const f of r.figures) console.log(`  ${f.label.padEnd(32)} memory_used_size ${String(f.memory_used_size).padStart(8)}  objects ${f.obj_count}`);
    if (r.errors.length || r.faults.length) console.log("  errors/faults:", r.errors, r.faults);
  }
}
