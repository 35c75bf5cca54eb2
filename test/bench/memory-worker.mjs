// The client side of part "memory": `count` connected, idle clients of one kind in this process,
// the broker in another. Reports the memory they hold: heapUsed + arrayBuffers after GC, minus the
// same figure before the clients were made (the library already loaded and warmed up).
//
//   node --expose-gc test/bench/memory-worker.mjs '{"impl":"mqttiny","port":1883,"count":1000}'
//
// impl: "bare" (a socket that sent CONNECT and got CONNACK: the floor), "mqttiny" (target node's
// defaults), "mqttiny-device" (the esp8266 target's limits), "mqttjs" (MQTT.js defaults).
import net from "node:net";
import { dist, report, require } from "./lib.mjs";

// opts: extra options for mqttiny (to try other sizes); BENCH_MQTTINY=file: another build of the bundle.
const { impl, port, count, opts = {} } = JSON.parse(process.argv[2]);
const host = "127.0.0.1";
if (!global.gc) throw new Error("run with --expose-gc");
// targets/espruino-esp8266.ts: its limits (no buffer is held either way).
const DEVICE = { rxSize: 512, outboxSize: 1024, queueSize: 8, inflight: 2, outboxMax: 0 };

let opened = 0;
const makers = {
  bare() {
    const c = require(`${dist}/node/codec.js`);
    return (id) =>
      new Promise((resolve, reject) => {
        const b = new Uint8Array(64), n = c.encodeConnect(b, 0, { clientId: id, clean: true, keepalive: 60 });
        const s = net.connect({ host, port, noDelay: true });
        s.on("connect", () => s.write(Buffer.from(b.subarray(0, n))));
        s.once("data", () => resolve({ end: () => s.destroy() }));
        s.on("data", () => {});
        s.on("error", reject);
      });
  },
  mqttiny(extra = {}) {
    const lib = require(process.env.BENCH_MQTTINY || `${dist}/node/mqttiny.js`);
    return (id) =>
      new Promise((resolve, reject) => {
        const cl = lib.connect({ host, port, clientId: id, ...extra, ...opts });
        cl.on("connect", () => resolve({ end: () => cl.end(true) }));
        cl.on("error", reject);
      });
  },
  "mqttiny-device"() {
    return makers.mqttiny(DEVICE);
  },
  mqttjs() {
    const mqtt = require("mqtt");
    return (id) =>
      new Promise((resolve, reject) => {
        const cl = mqtt.connect({ host, port, clientId: id, protocolVersion: 4 });
        cl.on("connect", () => resolve({ end: () => cl.end(true) }));
        cl.on("error", reject);
      });
  },
};

const tick = () => new Promise((r) => setImmediate(r));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function settle() {
  for (let i = 0; i < 4; i++) {
    global.gc();
    await tick();
  }
  await sleep(50);
  global.gc();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers, external: m.external, rss: m.rss, held: m.heapUsed + m.arrayBuffers };
}

/** `k` clients, opened 50 at a time. */
async function openMany(make, k) {
  const out = [];
  for (let i = 0; i < k; i += 50) {
    const batch = [];
    for (let j = i; j < Math.min(k, i + 50); j++) batch.push(make(`${impl}-${process.pid}-${++opened}`));
    out.push(...(await Promise.all(batch)));
  }
  return out;
}

// impl "burst": one mqttiny publisher and one subscriber (node defaults); `count` QoS 1 publishes
// in one go; what the process holds before, once all are delivered, and after 2.5 s idle.
if (impl === "burst") {
  const lib = require(process.env.BENCH_MQTTINY || `${dist}/node/mqttiny.js`);
  const open = (id) =>
    new Promise((resolve, reject) => {
      const c = lib.connect({ host, port, clientId: id, ...opts });
      c.on("connect", () => resolve(c));
      c.on("error", reject);
    });
  const sub = await open(`burst-sub-${process.pid}`), pub = await open(`burst-pub-${process.pid}`);
  await new Promise((r) => sub.subscribe("burst", { qos: 1 }, r));
  let delivered = 0, inOrder = true;
  sub.on("message", (t, p) => {
    if (+p.toString() !== delivered) inOrder = false;
    delivered++;
  });
  // One burst to warm up (code compiled on first use is not what a burst leaves behind), then the
  // idle figure, the measured burst, and the figure 2.5 s after it.
  const once = async () => {
    let refused = 0, acked = 0;
    delivered = 0;
    inOrder = true;
    await new Promise((resolve) => {
      for (let i = 0; i < count; i++)
        pub.publish("burst", String(i), { qos: 1 }, (e) => {
          if (e) refused++;
          else acked++;
          if (acked + refused === count) resolve();
        });
    });
    while (delivered < count - refused) await sleep(10);
    return refused;
  };
  await once();
  await sleep(2500);
  const idle = await settle();
  const refused = await once();
  const peak = await settle();
  await sleep(2500);
  const after = await settle();
  report({ impl, count, refused, delivered, inOrder, idle, peak, after, outboxAfter: pub._qn });
  pub.end(true);
  sub.end(true);
  setTimeout(() => process.exit(0), 100);
} else {
const make = makers[impl]();
// Warm-up: a few clients made, connected and ended, so code compiled on first use is not counted.
for (const c of await openMany(make, 10)) c.end();
await sleep(200);
const before = await settle();
const clients = await openMany(make, count);
await sleep(500); // idle: timers tick, nothing is sent
const after = await settle();
const per = (k) => (after[k] - before[k]) / count;
report({
  impl,
  count,
  before,
  after,
  perClient: { held: per("held"), heapUsed: per("heapUsed"), arrayBuffers: per("arrayBuffers"), external: per("external"), rss: per("rss") },
});
for (const c of clients) c.end();
setTimeout(() => process.exit(0), 100);
}
