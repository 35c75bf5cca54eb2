// Part "memory": what an idle connected client holds in Node. 1,000 clients of one kind in a worker
// process (test/bench/memory-worker.mjs) against aedes in its own process; per client =
// (heapUsed + arrayBuffers after GC, minus the baseline) / 1,000. mqttiny with the node target's
// defaults and with the ESP8266 target's buffers, MQTT.js with its defaults, and a bare socket
// (CONNECT sent, CONNACK read) as the floor. Each kind runs in `ROUNDS` workers, alternating.
//
//   node test/bench/memory.mjs
import path from "node:path";
import { startAedes } from "./brokers.mjs";
import { SMOKE, benchDir, ensureBuilt, fmtInt, fmtRatio, loadLine, machine, printTable, require, runNode, summary, writeResult } from "./lib.mjs";

ensureBuilt();
const start = machine();
const COUNT = +(process.env.BENCH_CLIENTS || (SMOKE ? 10 : 1000));
const ROUNDS = +(process.env.BENCH_ROUNDS || (SMOKE ? 1 : 3));
/** QoS 1 publishes in one go for the burst figure (issue 11: 10,000, none refused with defaults). */
const BURST = +(process.env.BENCH_BURST || (SMOKE ? 1000 : 10_000));
/** Open files each side needs: a socket per client, and what Node itself holds. */
const FILES = COUNT + 256;
const IMPLS = ["bare", "mqttiny", "mqttiny-device", "mqttjs"];
const LABEL = {
  bare: "bare socket (ref)",
  mqttiny: "mqttiny, node defaults",
  "mqttiny-device": "mqttiny, device limits",
  mqttjs: "MQTT.js, defaults",
};

async function main() {
  console.log(`memory: ${COUNT.toLocaleString("en-US")} idle connected clients per process, against aedes in its own process; ${loadLine()}`);
  const broker = await startAedes({ files: FILES });
  const runs = Object.fromEntries(IMPLS.map((i) => [i, []]));
  let burst = null;
  try {
    for (let r = 0; r < ROUNDS; r++)
      for (const impl of r % 2 ? [...IMPLS].reverse() : IMPLS) {
        const [m] = await runNode(path.join(benchDir, "memory-worker.mjs"), [JSON.stringify({ impl, port: broker.port, count: COUNT })], {
          flags: ["--expose-gc"],
          files: FILES,
          timeout: 120_000,
        });
        runs[impl].push(m);
      }
    burst = (
      await runNode(path.join(benchDir, "memory-worker.mjs"), [JSON.stringify({ impl: "burst", port: broker.port, count: BURST })], {
        flags: ["--expose-gc"],
        timeout: 120_000,
      })
    )[0];
  } finally {
    await broker.stop();
  }

  const res = {};
  for (const impl of IMPLS) {
    const pc = (k) => summary(runs[impl].map((m) => m.perClient[k]));
    res[impl] = { held: pc("held"), heapUsed: pc("heapUsed"), arrayBuffers: pc("arrayBuffers"), rss: pc("rss"), runs: runs[impl] };
  }
  const js = res.mqttjs.held.median;
  const goals = [
    { goal: "mqttiny defaults ≤ 0.4 × MQTT.js", value: +(res.mqttiny.held.median / js).toFixed(3), met: res.mqttiny.held.median <= 0.4 * js },
    { goal: `burst of ${BURST} QoS 1: 0 refused, all delivered in order`, value: burst.refused, met: burst.refused === 0 && burst.delivered === BURST && burst.inOrder },
    // Back to idle: within 64 KB of the figure before the burst (one shared staging slab, GC noise).
    { goal: "burst: memory back to idle after it (±64 KB)", value: burst.after.held - burst.idle.held, met: burst.after.held - burst.idle.held <= 65536 },
  ];
  const kb = (x) => (x / 1024).toFixed(1);
  printTable(
    `Memory per idle connected client, KB (1 KB = 1,024 B), median of ${ROUNDS} workers of ${COUNT.toLocaleString("en-US")} clients`,
    ["client", "heap + arrayBuffers", "heapUsed", "arrayBuffers", "RSS (info)", "vs MQTT.js", "above bare socket"],
    IMPLS.map((i) => [
      LABEL[i], kb(res[i].held.median), kb(res[i].heapUsed.median), kb(res[i].arrayBuffers.median), kb(res[i].rss.median),
      fmtRatio(res[i].held.median / js), i === "bare" ? "" : kb(res[i].held.median - res.bare.held.median),
    ]),
    [
      `spread (max - min over workers, heap + arrayBuffers): ${IMPLS.map((i) => `${i} ${fmtInt(res[i].held.max - res[i].held.min)} B`).join(", ")}`,
      "device limits: rxSize 512, outboxSize 1024, queueSize 8, inflight 2 (targets/espruino-esp8266.ts).",
      `burst: ${BURST.toLocaleString("en-US")} QoS 1 publishes in one go, node defaults: refused ${burst.refused}, delivered ${burst.delivered}${burst.inOrder ? " in order" : " OUT OF ORDER"}; ` +
        `held (heap + arrayBuffers) idle ${kb(burst.idle.held)} KB, all delivered ${kb(burst.peak.held)} KB, 2.5 s later ${kb(burst.after.held)} KB (outbox entries ${burst.outboxAfter} B).`,
      `goals: ${goals.map((g) => `${g.goal}: ${g.value} ${g.met ? "met" : "MISSED"}`).join("; ")}`,
    ],
  );
  writeResult("memory", { clients: COUNT, burst, floorDeviceBytes: res.bare.held.median + 1536, rounds: ROUNDS, mqttjsVersion: require("mqtt/package.json").version, results: res, goals }, start);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
