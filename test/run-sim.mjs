#!/usr/bin/env node
// npm run sim -- [--duration 15] [--interval 500] [--broker mqtt://host:port] [--target esp8266] [--quiet]
//
// A simulated device: the espruino-esp8266 bundle (dist/, built first if missing) runs inside
// QuickJS as on a board (test/engines/qjs/), its socket bridged to a real TCP connection to an
// MQTT broker on 127.0.0.1: an embedded aedes (default) or --broker. The device publishes a
// sensor reading at QoS 1 every --interval ms and takes commands on a subscribed topic; a node
// peer (MQTT.js) sends the commands and consumes the readings. Midway the harness cuts the
// bridged TCP socket (link drop), then restarts the broker on the same port with the same
// persistence (sessions survive; not with --broker). Every packet crossing the bridge is printed,
// decoded by mqtt-packet (credentials masked). After --duration seconds the device stops
// publishing, drains its outbox and ends; the summary checks that every reading the device had
// acknowledged (and every command the broker acknowledged) reached the other side.
// Exit code: 0 when nothing was lost, 1 when something was (or the board faulted), 2 on a setup error.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

// ---- options ---------------------------------------------------------------------------------
function parseArgs(argv) {
  const o = { duration: 15, interval: 500, broker: null, target: "espruino-esp8266", quiet: false, keepalive: 10 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], v = () => argv[++i];
    if (a === "--duration") o.duration = +v();
    else if (a === "--interval") o.interval = +v();
    else if (a === "--broker") o.broker = v();
    else if (a === "--target") o.target = v().replace(/^(?!espruino-)/, "espruino-");
    else if (a === "--keepalive") o.keepalive = +v();
    else if (a === "--quiet") o.quiet = true;
    else if (a === "--help" || a === "-h") {
      console.log(fs.readFileSync(fileURLToPath(import.meta.url), "utf8").split("\n").slice(1, 15).map((l) => l.replace(/^\/\/ ?/, "")).join("\n"));
      process.exit(0);
    } else {
      console.error(`unknown option ${a} (try --help)`);
      process.exit(2);
    }
  }
  if (!(o.duration > 0) || !(o.interval >= 10)) {
    console.error("--duration must be > 0 s and --interval >= 10 ms");
    process.exit(2);
  }
  return o;
}
const opt = parseArgs(process.argv.slice(2));

const bundle = path.join(root, "dist", opt.target, "mqttiny.min.js");
if (!fs.existsSync(bundle)) {
  console.log(`${path.relative(root, bundle)} missing: npm run build`);
  const r = spawnSync("npm", ["run", "build"], { cwd: root, stdio: "inherit" });
  if (r.status !== 0 || !fs.existsSync(bundle)) {
    console.error("build failed");
    process.exit(2);
  }
}

const { createDevice, startBroker } = await import("./engines/qjs/bridge.mjs");
const { default: mqtt } = await import("mqtt");

// ---- trace -----------------------------------------------------------------------------------
const t0 = Date.now();
const stamp = () => `[${((Date.now() - t0) / 1000).toFixed(3).padStart(7)}]`;
const say = (s) => console.log(`${stamp()} ${s}`);

/** One line for a packet, mqtt-packet's shape; user names and passwords never printed. */
export function describe(p) {
  const id = p.messageId != null ? ` id=${p.messageId}` : "";
  switch (p.cmd) {
    case "connect":
      return (
        `CONNECT clean=${p.clean ? 1 : 0} ka=${p.keepalive} id=${p.clientId}` +
        (p.username != null ? " user=***" : "") +
        (p.password != null ? " pass=***" : "") +
        (p.will ? ` will=${p.will.topic} q${p.will.qos || 0}${p.will.retain ? " r" : ""}` : "")
      );
    case "connack":
      return `CONNACK ${p.returnCode} sp=${p.sessionPresent ? 1 : 0}`;
    case "publish":
      return `PUBLISH q${p.qos}${id}${p.dup ? " dup" : ""}${p.retain ? " retain" : ""} t=${p.topic} (${p.payload ? p.payload.length : 0} B)`;
    case "subscribe":
      return `SUBSCRIBE${id} ${p.subscriptions.map((s) => `${s.topic} q${s.qos}`).join(", ")}`;
    case "suback":
      return `SUBACK${id} [${p.granted.join(",")}]`;
    case "unsubscribe":
      return `UNSUBSCRIBE${id} ${p.unsubscriptions.join(", ")}`;
    case "malformed":
      return `MALFORMED (${p.error})`;
    default:
      return `${p.cmd.toUpperCase()}${id}`;
  }
}

// ---- the run ---------------------------------------------------------------------------------
const D = opt.duration * 1000;
const rep = {
  published: new Set(),
  acked: new Set(),
  failed: new Map(),
  commands: [],
  connects: 0,
  errors: [],
  ended: false,
};
const peerGot = new Map();
const cmdsAcked = [];
let brk = null, dev = null, peer = null, code = 0;
/** aedes' own memory persistence (aedes-persistence), taken from the first broker and handed to the next. */
let persistence;
const timers = [];
const later = (ms, fn) => timers.push(setTimeout(fn, ms));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(cond, ms) {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(20)) if (cond()) return true;
  return cond();
}

function program(url, interval, keepalive) {
  return `
var mqtt = require("mqttiny");
require("mqttiny-stats"); // client.stats
require("mqttiny-handlers"); // subscribe(..., { handler })
require("mqttiny-drain"); // end() waits for the outbox
var seq = 0;
var c = mqtt.connect(${JSON.stringify(url)}, {
  clientId: "dev1", clean: false, keepalive: ${keepalive}, reconnectPeriod: 500,
  username: "sim", password: "s3cret-pw"
});
c.on("connect", function (a) { __host.report("connect", a.sessionPresent ? 1 : 0); });
c.on("error", function (e) { __host.report("error", e.code); });
c.on("offline", function () { __host.report("offline", 0); });
c.on("reconnect", function () { __host.report("reconnect", 0); });
c.subscribe("dev1/cmd", { qos: 1, handler: function (t, p, k) { __host.report("command", p); } });
function reading() {
  var n = ++seq, t = (21 + Math.sin(n / 4) * 1.5).toFixed(1);
  __host.report("published", n);
  c.publish("sensors/temp", '{"n":' + n + ',"t":' + t + '}', { qos: 1 }, function (e) {
    __host.report(e ? "failed" : "acked", e ? n + ":" + e.code : n);
  });
}
var timer = setInterval(reading, ${interval});
function stop() { clearInterval(timer); }
`;
}

async function main() {
  let url = opt.broker;
  if (!url) {
    brk = await startBroker();
    persistence = brk.broker.persistence;
    url = `mqtt://127.0.0.1:${brk.port}`;
    say(`broker: embedded aedes on ${url} (aedes-persistence memory instance, kept across restarts)`);
  } else say(`broker: ${url} (external: no broker restart injected)`);
  const port = +(/:(\d+)/.exec(url.replace(/^\w+:\/\//, "")) || [0, 1883])[1];

  // The peer: consumes readings, sends commands; a persistent session like the device's.
  peer = mqtt.connect(url, { clientId: "sim-peer", clean: false, reconnectPeriod: 300, keepalive: 10 });
  peer.on("error", () => {});
  peer.on("message", (t, p) => {
    if (t !== "sensors/temp") return;
    try {
      const n = JSON.parse(p.toString()).n;
      peerGot.set(n, (peerGot.get(n) || 0) + 1);
    } catch {}
  });
  await new Promise((res, rej) => {
    peer.once("connect", res);
    setTimeout(() => rej(new Error("peer could not connect to " + url)), 5000);
  });
  await peer.subscribeAsync("sensors/#", { qos: 1 });
  say(`peer: MQTT.js connected as sim-peer, subscribed to sensors/# q1`);

  const conn = new Map();
  let armed = false;
  const cut = (why) => {
    const n = dev.cut();
    say(`** link drop: ${n} bridged TCP socket${n === 1 ? "" : "s"} cut ${why}`);
  };
  dev = await createDevice({
    target: opt.target,
    onPrint: (l) => say(`board: ${l}`),
    onTrace: (dir, p, sid) => {
      if (!conn.has(sid)) conn.set(sid, conn.size + 1);
      if (!opt.quiet) say(`c${conn.get(sid)} ${dir} ${describe(p)}`);
      // The armed link drop hits right after a QoS 1 PUBLISH is handed to the socket, before its
      // PUBACK can come back: the device must resend it (DUP) in the resumed session.
      if (armed && dir === "→" && p.cmd === "publish" && p.qos === 1) {
        armed = false;
        setImmediate(() => cut(`with PUBLISH id=${p.messageId} unacknowledged`));
      }
    },
    onReport: (k, v) => {
      if (k === "published") rep.published.add(v);
      else if (k === "acked") rep.acked.add(v);
      else if (k === "failed") {
        const [n, c] = String(v).split(":");
        rep.failed.set(+n, +c);
      } else if (k === "command") {
        rep.commands.push(v);
        if (!opt.quiet) say(`board: command ${JSON.stringify(v)}`);
      } else if (k === "connect") {
        rep.connects++;
        say(`board: connect (sessionPresent ${v ? "true" : "false"})`);
      } else if (k === "error") {
        rep.errors.push(v);
        say(`board: error ${v}`);
      } else if (k === "offline" || k === "reconnect") say(`board: ${k}`);
      else if (k === "ended") say(`board: end${v ? " (" + v + ")" : ""}`);
    },
  });
  dev.run(`var mqttiny = require("mqttiny");`);
  const memLoad = dev.memory().memory_used_size;
  say(`board: QuickJS, ${opt.target} bundle loaded with Modules.addCached; memory_used_size ${memLoad} B`);
  dev.run(program(url, opt.interval, opt.keepalive));

  const tStart = Date.now();
  // Commands from the peer, once a second.
  let k = 0, cmdsAnswered = 0;
  const cmdTimer = setInterval(() => {
    const c = `led=${++k % 2 ? "on" : "off"}#${k}`;
    peer.publish("dev1/cmd", c, { qos: 1 }, (e) => {
      cmdsAnswered++;
      if (!e) cmdsAcked.push(c);
    });
  }, 1000);

  // Faults.
  later(Math.max(1000, D * 0.25), () => {
    armed = true;
    later(2 * opt.interval + 100, () => armed && ((armed = false), cut("(no PUBLISH in flight)")));
  });
  if (brk)
    later(Math.max(2000, D * 0.55), async () => {
      // Only once the device is back from the link drop, so that the restart hits a live session.
      const t = Date.now();
      await until(() => rep.connects >= 2 && dev.run("c.connected"), Math.max(0, D * 0.9 - (Date.now() - tStart)));
      if (Date.now() - t > 50) await sleep(300);
      say(`** broker restart: closing aedes on port ${port}`);
      await brk.close();
      await sleep(Math.min(1500, Math.max(500, D * 0.1)));
      brk = await startBroker({ port, persistence });
      say(`** broker restart: new aedes on port ${brk.port}, same persistence`);
    });

  await sleep(D);
  clearInterval(cmdTimer);
  dev.run("stop()");
  say(`** ${opt.duration} s: device stops publishing; waiting for its outbox to drain`);
  // Settle: every reading answered, every command answered by the broker (one sent just before
  // the stop may still be in flight) and every acknowledged one delivered (or give up).
  await until(
    () => rep.acked.size + rep.failed.size >= rep.published.size && cmdsAnswered >= k && cmdsAcked.every((c) => rep.commands.includes(c)),
    15000
  );
  const mem = dev.memory().memory_used_size;
  const stats = dev.run("c.stats");
  dev.run(`c.end(false, function (e) { __host.report("ended", e ? e.code : 0); })`);
  await until(() => [...rep.acked].every((n) => peerGot.has(n)), 5000);
  await sleep(100);

  // ---- summary ----
  const lostReadings = [...rep.acked].filter((n) => !peerGot.has(n));
  const unanswered = [...rep.published].filter((n) => !rep.acked.has(n) && !rep.failed.has(n));
  const lostCommands = cmdsAcked.filter((c) => !rep.commands.includes(c));
  const dupReadings = [...peerGot.values()].filter((v) => v > 1).length;
  const lost = lostReadings.length + unanswered.length + lostCommands.length;
  const faults = dev.faults();
  console.log("");
  console.log("summary");
  console.log(`  device (${opt.target} in QuickJS, client.stats):`);
  console.log(`    sent ${stats.sent}, acknowledged ${stats.acked}, resent ${stats.resent}, received ${stats.received}, reconnects ${stats.reconnects}, errors ${stats.errors}`);
  console.log(`  readings: published ${rep.published.size}, acknowledged ${rep.acked.size}, refused ${rep.failed.size}${rep.failed.size ? " " + JSON.stringify([...rep.failed]) : ""}, reached the peer ${[...rep.published].filter((n) => peerGot.has(n)).length} (${dupReadings} more than once)`);
  console.log(`  commands: acknowledged by the broker ${cmdsAcked.length}, received by the device ${rep.commands.length}`);
  console.log(`  engine memory: QuickJS memory_used_size ${mem} B (${memLoad} B after loading the bundle)`);
  if (faults.length || dev.errors.length) console.log(`  board faults: ${JSON.stringify(faults.concat(dev.errors))}`);
  console.log(
    `  lost: ${lost}` +
      (lost ? ` (readings acknowledged but never delivered: ${JSON.stringify(lostReadings)}; never answered: ${JSON.stringify(unanswered)}; commands: ${JSON.stringify(lostCommands)})` : "")
  );
  if (!rep.connects) {
    console.log("  the device never connected");
    code = 1;
  }
  if (lost || faults.length || dev.errors.length) code = 1;
}

try {
  await main();
} catch (e) {
  console.error("sim failed:", e && e.stack ? e.stack : e);
  code = 2;
} finally {
  for (const t of timers) clearTimeout(t);
  if (peer) await peer.endAsync(true).catch(() => {});
  if (dev) dev.dispose();
  if (brk) await brk.close().catch(() => {});
}
process.exit(code);
