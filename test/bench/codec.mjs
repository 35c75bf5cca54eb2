// Part "codec": mqttiny's codec (dist/node/codec.js) against mqtt-packet, the codec of MQTT.js, in
// one process. A sample is a batch of packets (sized to take ~1 ms, far above the clock's 1 µs
// steps). Each row is sampled in rounds of paired samples: every iteration of a tinybench task
// runs one batch of each implementation back to back (see round()), so both sides of a ratio see
// the same machine, and the ratio is the median of those paired ratios. packets/s is the median
// of all samples, ± half the interquartile range. Time is the process's CPU time (see CLOCK), so
// waiting for a core on a shared machine does not count. GCs per million packets come from a
// separate fixed-count loop, counting the `gc` entries of a PerformanceObserver.
//
//   node --expose-gc test/bench/codec.mjs
import { PerformanceObserver } from "node:perf_hooks";
import { Bench } from "tinybench";
import {
  SMOKE, dist, ensureBuilt, fmtMed, fmtRatio, fmtSI, loadLine, machine, printTable, require, sleep, summary, writeResult,
} from "./lib.mjs";

ensureBuilt();
const start = machine();
/** BENCH_CODEC=file measures another build of the codec bundle (to try a change side by side). */
const ours = require(process.env.BENCH_CODEC || `${dist}/node/codec.js`);
const mp = require("mqtt-packet");

const ROUNDS = +(process.env.BENCH_ROUNDS || (SMOKE ? 1 : 5));
const TIME = SMOKE ? 10 : 200; // ms of paired samples per row per round
const WARM = SMOKE ? 2 : 30; // ms of warm-up per row per round
// The clock: CPU time of this process (getrusage, 1 µs steps) unless BENCH_CLOCK=wall. A codec is
// pure single-threaded CPU work, and CPU time does not count the time the process waited for a
// core, which wall time on a shared machine does: packets per CPU-second are what an idle core does.
const CLOCK = process.env.BENCH_CLOCK === "wall" ? "wall" : "cpu";
const now = CLOCK === "cpu" ? () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
} : () => performance.now();
const BATCH_US = SMOKE ? 100 : CLOCK === "cpu" ? 1000 : 100; // target duration of one sample
// The GC-count loop: 1 M packets, or about a second's worth for a slow task (at least 100 k).
const GC_PACKETS = SMOKE ? 1e4 : 1e6;
const GC_MIN = SMOKE ? 1e3 : 1e5;

// ---- inputs ------------------------------------------------------------------------------------

const TOPIC = "bench/sensor/0042/temperature";
const payloadOf = (n) => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + 7) & 255;
  return b;
};
const SIZES = [
  ["16 B", 16],
  ["256 B", 256],
  ["4 KB", 4096],
];
const CONNECT = { clientId: "bench-client-0042", clean: true, keepalive: 60, username: "device-0042", password: Buffer.from("s3cret-token") };
const FILTERS = ["home/+/temperature", "home/+/humidity", "cmd/device-0042/#", "$SYS/broker/uptime"];

/** Our encoding of a packet, as a Buffer (the chunk the decoders get). */
function encoded(fn) {
  const b = Buffer.alloc(8192);
  const n = fn(b);
  if (n < 0) throw new Error(`encode failed: ${n}`);
  return Buffer.from(b.subarray(0, n));
}

// ---- tasks -------------------------------------------------------------------------------------
// Each task is made by its own `new Function`, so its loop and callbacks have their own type
// feedback: a helper shared by every task would turn megamorphic and slow the cheapest tasks most.
// A task is { run(): batch of `k` packets, k }. `s` is a sink the optimizer cannot drop. Packet ids
// vary with `i` (as in a session), so no encoder call is loop-invariant.

function task(body, setup = "") {
  const make = new Function(
    "ctx",
    `"use strict";
    const { c, mp, buf, chunk, topic, payload, conn, filters, pkt } = ctx;
    let s = 0, k = 1;
    ${setup}
    return {
      run() {
        for (let i = 0; i < k; i++) { ${body} }
        return s;
      },
      setK(v) { k = v; },
      get k() { return k; },
      get sink() { return s; },
    };`,
  );
  return (ctx) => make({ c: ours, mp, buf: Buffer.alloc(8192), ...ctx });
}

const DEC_OFFSETS = `const d = c.createDecoder(Buffer.alloc(8192), function (d) { s += d._ts + d._te + d._ps + d._pe + d._id; });`;
const DEC_HANDLER = `const d = c.createDecoder(Buffer.alloc(8192), function (d) {
  const b = d._d, t = b.toString("utf8", d._ts, d._te), p = Buffer.from(b.subarray(d._ps, d._pe));
  s += t.length + p.length;
});`;
const FEED = `if (c.feed(d, chunk, 0, chunk.length)) throw new Error("decode failed");`;
const PARSER = (onPacket) => `const p = mp.parser({ protocolVersion: 4 });
p.on("error", (e) => { throw e; });
p.on("packet", function (pk) { ${onPacket} });`;

function rows() {
  const r = [];
  // Encode: into a buffer the caller owns (ours), into a new Buffer (mqtt-packet's generate()).
  for (const qos of [0, 1])
    for (const [label, n] of SIZES) {
      const payload = payloadOf(n);
      r.push({
        group: "encode",
        name: `PUBLISH QoS ${qos}, ${label}`,
        bytes: n,
        tasks: {
          mqttiny: task(`s += c.encodePublish(buf, 0, topic, payload, ${qos}, false, false, ${qos ? "(i & 32767) + 1" : 0});`)({ topic: TOPIC, payload }),
          "mqtt-packet": task(`${qos ? "pkt.messageId = (i & 32767) + 1; " : ""}s += mp.generate(pkt).length;`)({
            pkt: { cmd: "publish", topic: TOPIC, payload, qos, retain: false, dup: false, messageId: qos ? 1 : undefined },
          }),
        },
      });
    }
  r.push({
    group: "encode",
    name: "CONNECT (id, user, password)",
    bytes: 0,
    tasks: {
      mqttiny: task(`s += c.encodeConnect(buf, 0, conn);`)({ conn: CONNECT }),
      "mqtt-packet": task(`s += mp.generate(pkt).length;`)({
        pkt: { cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: true, keepalive: 60, clientId: CONNECT.clientId, username: CONNECT.username, password: CONNECT.password },
      }),
    },
  });
  r.push({
    group: "encode",
    name: "SUBSCRIBE, 4 filters",
    bytes: 0,
    tasks: {
      mqttiny: task(`s += c.encodeSubscribe(buf, 0, 1, filters, 1);`)({ filters: FILTERS }),
      "mqtt-packet": task(`s += mp.generate(pkt).length;`)({
        pkt: { cmd: "subscribe", messageId: 1, subscriptions: FILTERS.map((topic) => ({ topic, qos: 1 })) },
      }),
    },
  });
  r.push({
    group: "encode",
    name: "PUBACK",
    bytes: 0,
    tasks: {
      mqttiny: task(`s += c.encodeAck(buf, 0, 4, (i & 32767) + 1);`)({}),
      "mqtt-packet": task(`pkt.messageId = (i & 32767) + 1; s += mp.generate(pkt).length;`)({ pkt: { cmd: "puback", messageId: 1 } }),
    },
  });

  // Decode: one packet per chunk, a Buffer as a socket delivers it.
  for (const qos of [0, 1])
    for (const [label, n] of SIZES) {
      const payload = payloadOf(n);
      const chunk = encoded((b) => ours.encodePublish(b, 0, TOPIC, payload, qos, false, false, qos ? 1 : 0));
      r.push({
        group: "decode",
        name: `PUBLISH QoS ${qos}, ${label}`,
        bytes: n,
        chunk,
        tasks: {
          "mqttiny offsets": task(FEED, DEC_OFFSETS)({ chunk }),
          "mqttiny topic+Buffer": task(FEED, DEC_HANDLER)({ chunk }),
          "mqtt-packet": task(`p.parse(chunk);`, PARSER(`s += pk.topic.length + pk.payload.length;`))({ chunk }),
        },
      });
    }
  const other = [
    ["PUBACK", Buffer.from([0x40, 2, 0, 1]), `s += pk.messageId;`],
    ["SUBACK, 4 codes", Buffer.from([0x90, 6, 0, 1, 1, 1, 0, 0x80]), `s += pk.granted.length;`],
    ["CONNACK", Buffer.from([0x20, 2, 0, 0]), `s += pk.returnCode;`],
  ];
  for (const [name, chunk, use] of other)
    r.push({
      group: "decode",
      name,
      bytes: 0,
      chunk,
      tasks: {
        "mqttiny offsets": task(FEED, DEC_OFFSETS)({ chunk }),
        "mqtt-packet": task(`p.parse(chunk);`, PARSER(use))({ chunk }),
      },
    });
  return r;
}

/** The two codecs agree on every input: our bytes are what mqtt-packet writes, and it parses ours. */
function crossCheck(all) {
  for (const row of all) {
    if (row.group !== "decode") continue;
    let got = null;
    const p = mp.parser({ protocolVersion: 4 });
    p.on("packet", (pk) => (got = pk));
    p.parse(row.chunk);
    if (!got) throw new Error(`mqtt-packet did not parse our ${row.name}`);
    if (got.cmd === "publish") {
      const again = mp.generate({ cmd: "publish", topic: got.topic, payload: got.payload, qos: got.qos, retain: false, dup: false, messageId: got.messageId });
      if (!again.equals(row.chunk)) throw new Error(`${row.name}: mqtt-packet encodes other bytes than ours`);
    }
  }
}

// ---- measuring ---------------------------------------------------------------------------------

/** Sets k so that one call of the task takes about BATCH_US. */
function calibrate(t) {
  t.setK(16);
  let n = 0;
  const t0 = now();
  while (now() - t0 < (SMOKE ? 2 : 20)) {
    t.run();
    n++;
  }
  const perPacket = (now() - t0) / (n * 16); // ms
  t.setK(Math.max(1, Math.min(100000, Math.round(BATCH_US / 1000 / perPacket))));
}

/**
 * One round of a row: a tinybench task whose every iteration runs one batch of each
 * implementation, back to back, in an order that rotates from iteration to iteration, and times
 * each batch itself (tinybench's task-supplied duration). Both sides of a ratio are thus sampled
 * within the same millisecond or two: a burst of load from elsewhere hits both, and each
 * iteration gives a paired ratio. Returns { rates: {name: [packets/s]}, pairs: [{name: rate}] }.
 */
function round(tasks) {
  const names = Object.keys(tasks), rates = Object.fromEntries(names.map((n) => [n, []])), pairs = [];
  let recording = false, turn = 0;
  const b = new Bench({ now, time: TIME, warmupTime: WARM, warmupIterations: 4, iterations: 16, throws: true });
  b.add(
    "pair",
    () => {
      const pair = {};
      let total = 0;
      turn++;
      for (let i = 0; i < names.length; i++) {
        const n = names[(i + turn) % names.length], t = tasks[n];
        const t0 = now();
        t.run();
        const ms = now() - t0;
        total += ms;
        pair[n] = ms > 0 ? (t.k * 1000) / ms : NaN;
      }
      if (recording) {
        pairs.push(pair);
        for (const n of names) rates[n].push(pair[n]);
      }
      return { overriddenDuration: total };
    },
    { async: false, beforeAll: (mode) => void (recording = mode === "run") },
  );
  b.runSync();
  return { rates, pairs };
}

const KIND_MAJOR = 4; // perf_hooks.constants.NODE_PERFORMANCE_GC_MAJOR
const gcEntries = [];
new PerformanceObserver((list) => gcEntries.push(...list.getEntries())).observe({ entryTypes: ["gc"] });
const flush = () => sleep(20); // gc entries are delivered asynchronously

/**
 * GCs during a loop of `packets` packets of a task, per million packets: the `gc` entries that
 * started while the loop ran (a collection the previous task left pending is not counted).
 */
async function gcsPerMillion(t, packets) {
  const calls = Math.ceil(packets / t.k);
  globalThis.gc?.();
  await flush();
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) t.run();
  const t1 = performance.now();
  await flush();
  const during = gcEntries.filter((e) => e.startTime >= t0 && e.startTime <= t1);
  gcEntries.length = 0;
  const done = calls * t.k;
  const major = during.filter((e) => (e.detail?.kind ?? e.kind) === KIND_MAJOR).length;
  return { gcs: during.length, major, packets: done, perMillion: (during.length * 1e6) / done };
}

// ---- main --------------------------------------------------------------------------------------

async function main() {
  console.log(`codec: mqttiny (dist/node/codec.js) vs mqtt-packet ${require("mqtt-packet/package.json").version}; clock: ${CLOCK === "cpu" ? "process CPU time" : "wall time"}; ${loadLine()}`);
  if (!globalThis.gc) console.log("(run with --expose-gc for a clean heap before each GC count)");
  const all = rows();
  crossCheck(all);
  const tasks = all.flatMap((r) => Object.values(r.tasks));

  // Warm every task once before any is measured: the shared code of each codec then sees every
  // packet type whatever the row order, as it does in a client.
  for (const t of tasks) calibrate(t);
  for (const t of tasks) calibrate(t);

  const samples = all.map((r) => Object.fromEntries(Object.keys(r.tasks).map((n) => [n, []])));
  const pairs = all.map(() => []);
  const perRound = all.map(() => []);
  for (let i = 0; i < ROUNDS; i++) {
    all.forEach((r, j) => {
      const got = round(r.tasks);
      const med = {};
      for (const n of Object.keys(r.tasks)) {
        samples[j][n].push(...got.rates[n]);
        med[n] = summary(got.rates[n]).median;
      }
      pairs[j].push(...got.pairs);
      med.ratios = {};
      for (const n of Object.keys(r.tasks)) if (n !== "mqtt-packet") med.ratios[n] = summary(got.pairs.map((p) => p[n] / p["mqtt-packet"])).median;
      perRound[j].push(med);
    });
    process.stderr.write(`  round ${i + 1}/${ROUNDS} done\n`);
  }

  const results = [];
  for (const [j, r] of all.entries()) {
    const names = Object.keys(r.tasks);
    const peer = "mqtt-packet";
    const res = { group: r.group, name: r.name, payloadBytes: r.bytes, tasks: {}, ratios: {} };
    for (const n of names) {
      const t = r.tasks[n];
      res.tasks[n] = {
        packetsPerSec: summary(samples[j][n]),
        batch: t.k,
        roundMedians: perRound[j].map((m) => m[n]),
        samples: samples[j][n].length,
        gc: await gcsPerMillion(t, Math.max(GC_MIN, Math.min(GC_PACKETS, Math.round(summary(samples[j][n]).median)))),
      };
    }
    // The ratio: median of the paired ratios of every iteration of every round; its range: the
    // lowest and highest of the rounds' medians.
    for (const n of names)
      if (n !== peer) {
        const rs = perRound[j].map((m) => m.ratios[n]);
        res.ratios[n] = { ...summary(pairs[j].map((p) => p[n] / p[peer])), rounds: rs, roundMin: Math.min(...rs), roundMax: Math.max(...rs) };
      }
    results.push(res);
  }

  // Goals: ≥ 3× mqtt-packet up to 256 B (every mqttiny column), not behind at 4 KB, and no GC in
  // the codec itself (encoding, decoding to offsets); decoding to a string and a Buffer allocates.
  const goals = [];
  for (const r of results)
    for (const [n, s] of Object.entries(r.ratios)) {
      const need = r.payloadBytes > 256 ? 1 : 3;
      goals.push({ row: `${r.group} ${r.name}`, task: n, goal: `ratio ≥ ${need}`, value: +s.median.toFixed(3), met: s.median >= need });
      if (n !== "mqttiny topic+Buffer")
        goals.push({ row: `${r.group} ${r.name}`, task: n, goal: "0 GCs", value: r.tasks[n].gc.gcs, met: r.tasks[n].gc.gcs === 0 });
    }

  const gcCell = (t) => (t ? (t.gc.perMillion < 10 ? t.gc.perMillion.toFixed(1) : Math.round(t.gc.perMillion).toString()) : "-");
  const mark = (s, need) => `${fmtRatio(s.median)} (${fmtRatio(s.roundMin)}–${fmtRatio(s.roundMax)})${s.median >= need ? "" : " MISS"}`;
  printTable(
    `Encode, packets per ${CLOCK === "cpu" ? "CPU-" : ""}second (median ± half IQR); ratio = mqttiny / mqtt-packet, median of paired samples (range of the rounds)`,
    ["packet", "mqttiny", "mqtt-packet", "ratio", "GC/M mqttiny", "GC/M mqtt-packet"],
    results.filter((r) => r.group === "encode").map((r) => [
      r.name, fmtMed(r.tasks.mqttiny.packetsPerSec), fmtMed(r.tasks["mqtt-packet"].packetsPerSec),
      mark(r.ratios.mqttiny, r.payloadBytes > 256 ? 1 : 3), gcCell(r.tasks.mqttiny), gcCell(r.tasks["mqtt-packet"]),
    ]),
    ["mqttiny writes into a buffer it is given; mqtt-packet's generate() returns a new Buffer."],
  );
  printTable(
    `Decode, packets per ${CLOCK === "cpu" ? "CPU-" : ""}second (one packet per chunk); offsets = callback reads _ts/_te/_ps/_pe; topic+Buffer = what a message handler gets`,
    ["packet", "mqttiny offsets", "mqttiny topic+Buffer", "mqtt-packet", "ratio offsets", "ratio topic+Buffer", "GC/M offsets", "GC/M topic+Buf", "GC/M mqtt-packet"],
    results.filter((r) => r.group === "decode").map((r) => {
      const need = r.payloadBytes > 256 ? 1 : 3, h = r.tasks["mqttiny topic+Buffer"];
      return [
        r.name, fmtMed(r.tasks["mqttiny offsets"].packetsPerSec), h ? fmtMed(h.packetsPerSec) : "-", fmtMed(r.tasks["mqtt-packet"].packetsPerSec),
        mark(r.ratios["mqttiny offsets"], need), h ? mark(r.ratios["mqttiny topic+Buffer"], need) : "-",
        gcCell(r.tasks["mqttiny offsets"]), gcCell(h), gcCell(r.tasks["mqtt-packet"]),
      ];
    }),
    [
      "mqtt-packet's packet carries the topic string and the payload (a view of the chunk); mqttiny's topic+Buffer copies the payload.",
      `GC/M: GCs per million packets, counted in a separate loop of ${fmtSI(GC_PACKETS)} packets (about one second's worth, at least ${fmtSI(GC_MIN)}, for slower tasks).`,
    ],
  );
  const missed = goals.filter((g) => !g.met);
  console.log(`\ngoals: ${goals.length - missed.length}/${goals.length} met${missed.length ? "; missed: " + missed.map((g) => `${g.row} [${g.task}] ${g.goal} (${g.value})`).join("; ") : ""}`);
  writeResult("codec", { clock: CLOCK, rounds: ROUNDS, msPerTaskPerRound: TIME, batchTargetMicros: BATCH_US, rows: results, goals }, start);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
