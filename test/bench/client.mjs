// Part "client": mqttiny against MQTT.js end to end, publisher -> broker -> subscriber on loopback,
// 10,000 messages of 64 B at QoS 0 and QoS 1, on aedes and on Mosquitto (when installed), with
// two references on the same broker: pre-encoded packets written straight to raw sockets (the
// broker's own limit) and mosquitto_pub/mosquitto_sub (C).
//
// The broker runs in its own process and each client implementation in a worker process of its
// own (test/bench/client-worker.mjs), so process.cpuUsage() in the worker is the clients' CPU
// (publisher and subscriber together) and nothing else. Workers run in rounds, the order of the
// implementations rotating from round to round; each does a warm-up run then timed runs.
//
//   node test/bench/client.mjs
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { mosquittoMissing, procCpuMs, startAedes, startMosquitto } from "./brokers.mjs";
import {
  SMOKE, benchDir, ensureBuilt, fmtMed, fmtRatio, fmtSI, loadLine, machine, printTable, require, runNode, summary, which, writeResult,
} from "./lib.mjs";

ensureBuilt();
const start = machine();
const N = +(process.env.BENCH_MESSAGES || (SMOKE ? 100 : 10_000));
const SIZE = 64;
const ROUNDS = +(process.env.BENCH_ROUNDS || (SMOKE ? 1 : 3));
const RUNS = SMOKE ? 1 : 3; // timed runs per worker
const WARM = SMOKE ? 0 : 2_000; // warm-up messages per worker
const C_RUNS = SMOKE ? 1 : 5;
const IMPLS = ["mqttiny", "mqttiny-107", "mqttjs", "raw"];
const LABEL = {
  mqttiny: "mqttiny",
  "mqttiny-107": "mqttiny, until refused",
  mqttjs: "MQTT.js",
  raw: "raw sockets (ref)",
  c: "mosquitto_pub/sub (C, ref)",
};
const QOS = [0, 1];

// ---- the C reference ---------------------------------------------------------------------------

/** Runs `exe args` under bash and returns its CPU (bash's `times` of its children) and exit time. */
function timesOf(exe, args, stdinFile) {
  return new Promise((resolve, reject) => {
    const stdin = stdinFile ? fs.openSync(stdinFile, "r") : "ignore";
    const child = spawn("bash", ["-c", '"$0" "$@" > /dev/null; rc=$?; times >&2; exit $rc', exe, ...args], { stdio: [stdin, "ignore", "pipe"] });
    if (typeof stdin === "number") fs.closeSync(stdin);
    let err = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("exit", (code) => {
      const at = process.hrtime.bigint();
      child.on("close", () => {
        const lines = err.trim().split("\n");
        const t = (lines[lines.length - 1] || "").match(/(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/);
        if (code !== 0 || !t) return reject(new Error(`${path.basename(exe)} exited ${code}: ${err.slice(-500)}`));
        resolve({ at, userMs: (+t[1] * 60 + +t[2]) * 1000, sysMs: (+t[3] * 60 + +t[4]) * 1000 });
      });
    });
  });
}

let cId = 0;
async function cRun(broker, qos, n, linesFile) {
  const id = `bench-csub-${process.pid}-${++cId}`, topic = `bench/c/${id}`;
  const common = ["-h", "127.0.0.1", "-p", String(broker.port), "-t", topic, "-q", String(qos)];
  const subscribed = broker.subscribed(id);
  const sub = timesOf(which("mosquitto_sub"), [...common, "-C", String(n), "-i", id]);
  sub.catch(() => {});
  await subscribed;
  const b0 = procCpuMs(broker.pid);
  const t0 = process.hrtime.bigint();
  const pub = timesOf(which("mosquitto_pub"), [...common, "-l", "-i", `${id}-pub`], linesFile);
  const [s, p] = await Promise.all([sub, pub]);
  const end = s.at > p.at ? s.at : p.at;
  const ns = Number(end - t0), cpu = s.userMs + s.sysMs + p.userMs + p.sysMs;
  return { impl: "c", qos, n, size: SIZE, ms: ns / 1e6, msgsPerSec: (n * 1e9) / ns, cpuUserMs: s.userMs + p.userMs, cpuSysMs: s.sysMs + p.sysMs, cpuPerMsgUs: (cpu * 1000) / n, brokerCpuMs: procCpuMs(broker.pid) - b0 };
}

// ---- main --------------------------------------------------------------------------------------

async function onBroker(broker, cTools, linesFile) {
  const out = {};
  for (const qos of QOS) {
    const cell = (out[qos] = Object.fromEntries([...IMPLS, ...(cTools ? ["c"] : [])].map((i) => [i, { runs: [], rounds: [], errors: [] }])));
    for (let r = 0; r < ROUNDS; r++) {
      const order = IMPLS.map((_, i) => IMPLS[(i + r) % IMPLS.length]);
      for (const impl of order) {
        const cfg = { impl, port: broker.port, qos, n: N, size: SIZE, runs: RUNS, warm: WARM, brokerPid: broker.pid };
        try {
          const runs = await runNode(path.join(benchDir, "client-worker.mjs"), [JSON.stringify(cfg)], { flags: ["--expose-gc"], timeout: 180_000 });
          cell[impl].runs.push(...runs);
          cell[impl].rounds.push(summary(runs.map((x) => x.msgsPerSec)).median);
        } catch (e) {
          cell[impl].errors.push(String(e.message).split("\n").slice(0, 3).join(" | "));
          process.stderr.write(`  ${broker.name} QoS ${qos} ${impl}: ${e.message.split("\n")[0]}\n`);
        }
      }
      process.stderr.write(`  ${broker.name} QoS ${qos}: round ${r + 1}/${ROUNDS} done\n`);
    }
    if (cTools)
      for (let i = 0; i < C_RUNS; i++) {
        try {
          cell.c.runs.push(await cRun(broker, qos, N, linesFile));
        } catch (e) {
          cell.c.errors.push(String(e.message).split("\n")[0]);
        }
      }
  }
  return out;
}

function summarize(cells) {
  const res = {};
  for (const [qos, cell] of Object.entries(cells)) {
    res[qos] = {};
    for (const [impl, c] of Object.entries(cell)) {
      res[qos][impl] = {
        msgsPerSec: summary(c.runs.map((x) => x.msgsPerSec)),
        cpuPerMsgUs: summary(c.runs.map((x) => x.cpuPerMsgUs)),
        sysShare: summary(c.runs.map((x) => x.cpuSysMs / (x.cpuUserMs + x.cpuSysMs))),
        brokerCpuPct: summary(c.runs.map((x) => (100 * x.brokerCpuMs) / x.ms)),
        refusedPerMsg: c.runs.some((x) => x.refused != null) ? summary(c.runs.map((x) => (x.refused ?? 0) / x.n)) : null,
        runs: c.runs,
        errors: c.errors,
      };
    }
    const b = res[qos].mqttjs, vs = (a) => a && { msgsPerSec: a.msgsPerSec.median / b.msgsPerSec.median, cpuPerMsg: a.cpuPerMsgUs.median / b.cpuPerMsgUs.median };
    res[qos].ratios = vs(res[qos].mqttiny);
    // Pre-encoded packets on raw sockets: what the broker and the kernel allow a client doing no work.
    res[qos].rawRatios = vs(res[qos].raw);
  }
  return res;
}

async function main() {
  console.log(`client: mqttiny (dist/node/mqttiny.js) vs MQTT.js ${require("mqtt/package.json").version}, ${N.toLocaleString("en-US")} messages of ${SIZE} B; ${loadLine()}`);
  const brokers = [["aedes", startAedes, null], ["mosquitto", startMosquitto, mosquittoMissing()]];
  const cMissing = !which("mosquitto_pub") || !which("mosquitto_sub") ? "mosquitto_pub/mosquitto_sub not installed (apt-get install mosquitto-clients)" : null;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mqttiny-bench-"));
  const linesFile = path.join(tmp, "lines.txt");
  fs.writeFileSync(linesFile, ("m".repeat(SIZE) + "\n").repeat(N)); // mosquitto_pub -l: one message per line
  const result = { messages: N, payloadBytes: SIZE, rounds: ROUNDS, runsPerWorker: RUNS, warmup: WARM, brokers: {}, skipped: {}, goals: [] };
  try {
    for (const [name, startBroker, missing] of brokers) {
      if (missing) {
        result.skipped[name] = missing;
        console.log(`skipped ${name}: ${missing}`);
        continue;
      }
      const broker = await startBroker();
      try {
        const cells = await onBroker(broker, !cMissing, linesFile);
        result.brokers[name] = { version: broker.version, ...summarize(cells) };
      } finally {
        await broker.stop();
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  if (cMissing) result.skipped.c = cMissing;

  const rows = [];
  for (const [name, b] of Object.entries(result.brokers))
    for (const qos of QOS) {
      const cell = b[qos], r = cell.ratios, raw = cell.rawRatios;
      // Issue 11: QoS 1 ≥ 1.5× the messages/s at ≤ 0.5× the CPU; QoS 0 ≥ 2.5× at ≤ 0.2×.
      const [rateGoal, cpuGoal] = qos ? [1.5, 0.5] : [2.5, 0.2];
      const cpuMet = r.cpuPerMsg <= cpuGoal, rateMet = r.msgsPerSec >= rateGoal;
      result.goals.push({ broker: name, qos, goal: `CPU/msg ≤ ${cpuGoal} × MQTT.js`, value: +r.cpuPerMsg.toFixed(3), met: cpuMet, rawSockets: raw && +raw.cpuPerMsg.toFixed(3) });
      result.goals.push({ broker: name, qos, goal: `msgs/s ≥ ${rateGoal} × MQTT.js`, value: +r.msgsPerSec.toFixed(3), met: rateMet, rawSockets: raw && +raw.msgsPerSec.toFixed(3) });
      for (const impl of [...IMPLS, "c"]) {
        const c = cell[impl];
        if (!c) continue;
        const err = c.errors.length ? ` (${c.errors.length} failed)` : "";
        const ref = c.refusedPerMsg && c.refusedPerMsg.median > 0 ? ` [${c.refusedPerMsg.median.toFixed(2)} refused/msg]` : "";
        rows.push([
          `${name} ${b.version ?? ""}`.trim(), `QoS ${qos}`, LABEL[impl] + ref + err, fmtMed(c.msgsPerSec), fmtMed(c.cpuPerMsgUs, (x) => x.toFixed(1)),
          Number.isFinite(c.sysShare.median) ? `${Math.round(100 * c.sysShare.median)}%` : "-", fmtMed(c.brokerCpuPct, (x) => x.toFixed(0)),
          impl === "mqttiny" ? `${fmtRatio(r.msgsPerSec)}${rateMet ? "" : " MISS"}` : impl === "raw" && raw ? `(${fmtRatio(raw.msgsPerSec)})` : "",
          impl === "mqttiny" ? `${fmtRatio(r.cpuPerMsg)}${cpuMet ? "" : " MISS"}` : impl === "raw" && raw ? `(${fmtRatio(raw.cpuPerMsg)})` : "",
        ]);
      }
    }
  printTable(
    `Client end to end: ${N.toLocaleString("en-US")} × ${SIZE} B, publisher -> broker -> subscriber on loopback (median ± half IQR of ${ROUNDS} rounds × ${RUNS} runs)`,
    ["broker", "QoS", "client", "msgs/s", "client CPU µs/msg", "of it sys", "broker CPU %", "msgs/s vs MQTT.js", "CPU vs MQTT.js"],
    rows,
    [
      "client CPU: publisher + subscriber, in a process of their own (broker elsewhere). Goals: QoS 1 msgs/s ≥ 1.5×, CPU ≤ 0.5× MQTT.js; QoS 0 ≥ 2.5×, ≤ 0.2×.",
      "mqttiny: target node defaults (outbox up to 8 MB, inflight 4,096), every publish at once as MQTT.js users do.",
      "mqttiny, until refused: a fixed 16 KB / 64-publish outbox; the app publishes until one is refused (107) and goes on at 'drain'.",
      "MQTT.js: its defaults (no in-flight limit), every publish at once. raw: pre-encoded PUBLISH written in one write, PUBACKs per chunk; its ratios in parentheses: the reference a goal can be read against.",
      "C: mosquitto_pub -l / mosquitto_sub -C, CPU includes both processes' start-up. broker CPU %: of one core, during the run.",
      ...Object.entries(result.skipped).map(([k, v]) => `skipped ${k}: ${v}`),
    ],
  );
  const missed = result.goals.filter((g) => !g.met);
  console.log(`\ngoals: ${result.goals.length - missed.length}/${result.goals.length} met${missed.length ? "; missed: " + missed.map((g) => `${g.broker} QoS ${g.qos} ${g.goal} (${g.value}; raw sockets ${g.rawSockets ?? "-"})`).join("; ") : ""}`);
  writeResult("client", result, start);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
