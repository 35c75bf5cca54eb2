// The client side of part "client", one process per (implementation, broker, QoS, round): a
// publisher and a subscriber of one implementation, and nothing else, so that process.cpuUsage()
// is the clients' own CPU (the broker runs in another process). After a warm-up run it does
// `runs` timed runs of `n` messages publisher -> broker -> subscriber and reports each.
//
//   node test/bench/client-worker.mjs '{"impl":"mqttiny","port":1883,"qos":1,"n":10000,"size":64,"runs":3,"warm":2000}'
//
// impl: "mqttiny" (dist/node/mqttiny.js, target node's defaults, every publish at once),
// "mqttiny-107" (a fixed 16 KB / 64-publish outbox, publishing until refused, resuming on 'drain'), "mqttjs" (MQTT.js with its
// defaults), "raw" (pre-encoded packets written straight to sockets: the broker's own limit).
import net from "node:net";
import { procCpuMs } from "./brokers.mjs";
import { dist, report, require } from "./lib.mjs";

const cfg = JSON.parse(process.argv[2]);
const { impl, port, qos, n, size, runs, warm, brokerPid } = cfg;
const host = "127.0.0.1";
const tag = `${impl}-${process.pid}`;
const TIMEOUT = Math.max(20_000, n); // ms per run: a lost message must not hang the bench
const RAW_SLICE = +(process.env.BENCH_RAW_SLICE ?? cfg.rawSlice ?? 0);
const topic = `bench/${tag}/data`;
const payload = Buffer.alloc(size, 0x61);

const brokerCpu = () => procCpuMs(brokerPid);

// ---- mqttiny -----------------------------------------------------------------------------------

/** BENCH_MQTTINY=file loads another build of the node bundle (to try a change side by side). */
const MQTTINY = process.env.BENCH_MQTTINY || `${dist}/node/mqttiny.js`;
/**
 * mqttiny. Default: the node target's defaults, every publish at once as MQTT.js users do (the
 * outbox grows; a refusal would be counted). `untilRefused`: a fixed outbox as on a board (16 KB,
 * 64 publishes): the app publishes until one is refused with 107 and goes on at the 'drain' event.
 */
async function mqttiny(untilRefused) {
  const lib = require(MQTTINY);
  const extra = untilRefused ? { outboxSize: 16384, outboxMax: 0, queueSize: 64 } : {};
  const open = (id) =>
    new Promise((resolve, reject) => {
      const c = lib.connect({ host, port, clientId: id, reconnectPeriod: 0, ...extra });
      c.on("connect", () => resolve(c));
      c.on("error", (e) => reject(e));
    });
  const sub = await open(`${tag}-sub`);
  const pub = await open(`${tag}-pub`);
  await new Promise((resolve, reject) => sub.subscribe(topic, { qos }, (e) => (e ? reject(e) : resolve())));
  let onMessage = null, onDrain = null, refused = 0;
  sub.on("message", () => onMessage());
  pub.on("drain", () => onDrain && onDrain());
  return {
    run(count) {
      refused = 0;
      return new Promise((resolve, reject) => {
        let sent = 0, done = 0, got = 0, full = false;
        const check = () => done === count && got === count && resolve({ refused });
        onMessage = () => {
          got++;
          check();
        };
        const cb = (err) => {
          if (err) {
            if (err.code === 107) full = true;
            else reject(err);
            return;
          }
          done++;
          check();
        };
        const opts = { qos };
        function fill() {
          while (sent < count) {
            full = false;
            pub.publish(topic, payload, opts, cb);
            if (full) {
              refused++;
              // 'drain' comes once the outbox is half empty (a refusal with nothing outstanding
              // cannot happen: the outbox holds 64).
              onDrain = fill;
              return;
            }
            sent++;
          }
        }
        fill();
      });
    },
    close() {
      pub.end(true);
      sub.end(true);
    },
  };
}

// ---- MQTT.js -----------------------------------------------------------------------------------

async function mqttjs() {
  const mqtt = require("mqtt");
  const open = (id) =>
    new Promise((resolve, reject) => {
      const c = mqtt.connect({ host, port, clientId: id, reconnectPeriod: 0, protocolVersion: 4 });
      c.on("connect", () => resolve(c));
      c.on("error", (e) => reject(e));
    });
  const sub = await open(`${tag}-sub`);
  const pub = await open(`${tag}-pub`);
  await new Promise((resolve, reject) => sub.subscribe(topic, { qos }, (e) => (e ? reject(e) : resolve())));
  let onMessage = null;
  sub.on("message", () => onMessage());
  return {
    run(count) {
      return new Promise((resolve, reject) => {
        let done = 0, got = 0;
        const check = () => done === count && got === count && resolve();
        onMessage = () => {
          got++;
          check();
        };
        const cb = (err) => {
          if (err) return reject(err);
          done++;
          check();
        };
        // MQTT.js takes every publish at once (no in-flight limit by default): its own pace.
        const opts = { qos };
        for (let i = 0; i < count; i++) pub.publish(topic, payload, opts, cb);
      });
    },
    close() {
      pub.end(true);
      sub.end(true);
    },
  };
}

// ---- raw sockets -------------------------------------------------------------------------------

async function raw() {
  const c = require(`${dist}/node/codec.js`);
  const scratch = Buffer.alloc(1 << 16);
  const enc = (fn) => Buffer.from(scratch.subarray(0, fn(scratch)));
  const connect = (id) => enc((b) => c.encodeConnect(b, 0, { clientId: id, clean: true, keepalive: 60 }));
  /** A socket and a decoder over it; `onPacket(d)` sees every packet from the broker. */
  const open = (id, onPacket) =>
    new Promise((resolve, reject) => {
      const s = net.connect({ host, port, noDelay: true });
      const d = c.createDecoder(Buffer.alloc(1 << 16), (d) => s.onPacket(d));
      s.onPacket = (d) => {
        if (d._type === 2) resolve(s);
        else onPacket(d);
      };
      s.on("connect", () => s.write(connect(id)));
      s.on("data", (chunk) => {
        const r = c.feed(d, chunk, 0, chunk.length);
        if (r) reject(new Error(`raw: decode error ${r}`));
        s.afterChunk?.();
      });
      s.on("error", reject);
    });
  let onPublish = () => {}, onPuback = () => {}, acks = [];
  const sub = await open(`${tag}-sub`, (d) => {
    if (d._type === 9) sub.onSuback();
    else if (d._type === 3) {
      // QoS 1: one PUBACK per PUBLISH, written once per chunk.
      if (d._id) acks.push(d._id);
      onPublish();
    }
  });
  sub.afterChunk = () => {
    if (!acks.length) return;
    const b = Buffer.allocUnsafe(4 * acks.length);
    for (let i = 0; i < acks.length; i++) c.encodeAck(b, 4 * i, 4, acks[i]);
    acks = [];
    sub.write(b);
  };
  const pub = await open(`${tag}-pub`, (d) => d._type === 4 && onPuback());
  await new Promise((resolve) => {
    sub.onSuback = resolve;
    sub.write(enc((b) => c.encodeSubscribe(b, 0, 1, [topic], qos)));
  });
  const one = c.publishSize(topic, payload, qos);
  return {
    run(count) {
      // Pre-encoded outside the timed part: the broker's limit, not an encoder's.
      const batch = Buffer.alloc(one * count);
      for (let i = 0; i < count; i++) c.encodePublish(batch, i * one, topic, payload, qos, false, false, qos ? (i % 65535) + 1 : 0);
      return {
        batch,
        go: () =>
          new Promise((resolve) => {
            let got = 0, acked = 0;
            const check = () => got === count && (!qos || acked === count) && resolve();
            onPublish = () => {
              got++;
              check();
            };
            onPuback = () => {
              acked++;
              check();
            };
            // In slices of RAW_SLICE bytes (0: the whole batch in one write).
            if (!RAW_SLICE) pub.write(batch);
            else for (let i = 0; i < batch.length; i += RAW_SLICE) pub.write(batch.subarray(i, i + RAW_SLICE));
          }),
      };
    },
    close() {
      pub.destroy();
      sub.destroy();
    },
  };
}

// ---- main --------------------------------------------------------------------------------------

async function timed(client, count) {
  let r = client.run(count);
  if (r.go) r = r.go; // raw: encoded before the clock starts
  else {
    const p = r;
    r = () => p;
  }
  const b0 = brokerCpu();
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let timer;
  const extra = await Promise.race([
    r(),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${impl} QoS ${qos}: ${count} messages not done in ${TIMEOUT} ms`)), TIMEOUT);
    }),
  ]);
  clearTimeout(timer);
  const ns = Number(process.hrtime.bigint() - t0);
  const cpu = process.cpuUsage(c0);
  const b1 = brokerCpu();
  return {
    ms: ns / 1e6,
    msgsPerSec: (count * 1e9) / ns,
    cpuUserMs: cpu.user / 1000,
    cpuSysMs: cpu.system / 1000,
    cpuPerMsgUs: (cpu.user + cpu.system) / count,
    brokerCpuMs: b1 - b0,
    ...(extra || {}),
  };
}

const make = { mqttiny: () => mqttiny(false), "mqttiny-107": () => mqttiny(true), mqttjs, raw }[impl];
if (!make) throw new Error(`unknown impl ${impl}`);
const client = await make();
if (warm) await timed(client, warm);
for (let i = 0; i < runs; i++) {
  global.gc?.();
  await new Promise((r) => setTimeout(r, 20));
  report({ impl, qos, n, size, ...(await timed(client, n)) });
}
client.close();
setTimeout(() => process.exit(0), 50);
