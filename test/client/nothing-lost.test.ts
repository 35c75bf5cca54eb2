// "Nothing lost": 1,000 QoS 1 publishes through a real broker (aedes, in process) while links
// drop at random points, mid-packet included, about every 50 packets. Every publish callback
// fires exactly once with success; the subscriber (clean:false, QoS 1) gets every message at
// least once; the publisher respects back-pressure (on 107 it tries the same message again later).
// Virtual time; the seed is printed, SEED=... repeats a run.
//
// Order: the publisher's messages reach the broker for the first time in publish order, and the
// subscriber hands messages to the app in exactly the order they came off its socket. End to end,
// first deliveries keep publish order when only the publisher's link drops. When the subscriber's
// link drops too, aedes itself reorders: on a reconnect it forwards new messages at once while it
// replays the stored ones (handlers/connect.js: registerClient before emptyQueue), so there the
// test checks the client's part of the order and counts the broker's inversions.
import { describe, it, expect } from "vitest";
import { CHUNK, rig, prng, text } from "./helpers";
import { continuingIds, startAedes } from "../sim/broker";
import { StreamDecoder } from "../sim/trace";
import type { SimConnection } from "../sim/network";

const N = 1000;

/** Complete PUBLISH packets (their payload text) a connection delivered toward the client, in order. */
function publishesIn(conn: SimConnection): string[] {
  const out: string[] = [];
  const d = new StreamDecoder((p) => p.cmd == "publish" && out.push(String(p.payload)), () => {});
  d.push(conn.inBytes());
  return out;
}

/** The client id of the CONNECT a connection carried. */
function clientOf(conn: SimConnection): string {
  let id = "";
  const d = new StreamDecoder((p) => p.cmd == "connect" && !id && (id = p.clientId), () => {});
  d.push(conn.outBytes());
  return id;
}

async function run(label: string, chunkSize: number | undefined, dropSubscriber: boolean) {
  const seed = Number(process.env.SEED) || (Date.now() % 1_000_000) + 1;
  const rnd = prng(seed);
  const { sim, make } = rig({ chunkSize });
  // The subscriber's link drops too: aedes's ids must not be reused (see continuingIds).
  const aedes = await startAedes(sim, { preConnect: continuingIds() } as any);

  // Each connection drops after a random number of packets, about 50 on average counting both
  // ways (every PUBLISH the client writes is answered by one PUBACK, and the other way round),
  // at a random byte of a random direction: mid-packet as often as not.
  let drops = 0, subscriberUp = false;
  sim.onConnection((duplex, conn) => {
    aedes.broker.handle(duplex as any);
    // Without subscriber drops, only connections made once the subscriber is up (the publisher's) drop.
    if (!dropSubscriber && !subscriberUp) return;
    let left = 1 + Math.floor(rnd() * 49);
    const dec = new StreamDecoder(() => {
      if (--left == 0) conn.dropAfter(Math.floor(rnd() * 24), rnd() < 0.5 ? "in" : "out");
    }, () => {});
    conn.far.push({ data: (b) => dec.push(b), reset: () => drops++ });
  });

  const opts = { keepalive: 10, reconnectPeriod: 50, reconnectMax: 400, connectTimeout: 2000 };
  const sub = make({ ...opts, clientId: "sub", clean: false });
  const first: number[] = [];
  const order: string[] = [];
  const seen = new Uint8Array(N);
  let subscribed = false;
  sub.subscribe("load/#", { qos: 1, handler: (_t: string, p: any) => {
    const s = text(p), i = +s.slice(1);
    order.push(s);
    if (!seen[i]++) first.push(i);
  } }, (e: any) => {
    expect(e).toBeNull();
    subscribed = true;
  });
  await sim.until(() => subscribed, 60_000);
  subscriberUp = true;

  // First arrivals at the broker, from the publisher.
  const arrived: number[] = [];
  const arrivedSeen = new Uint8Array(N);
  aedes.broker.on("publish", (pk: any, client: any) => {
    if (client && client.id == "pub") {
      const i = +String(pk.payload).slice(1);
      if (!arrivedSeen[i]++) arrived.push(i);
    }
  });

  const pub = make({ ...opts, clientId: "pub", clean: false });
  // A subscription of its own, so that aedes keeps the publisher's session (session present 1)
  // and the client's resends go out with DUP=1 and their ids.
  let pubReady = false;
  pub.subscribe("control/pub", { qos: 1 }, () => (pubReady = true));
  await sim.until(() => pubReady, 60_000);

  const calls = new Uint16Array(N);
  const bad: string[] = [];
  let acked = 0, full = 0, next = 0, vt = 0;
  const start = Date.now();
  while ((acked < N || first.length < N) && vt < 3_600_000) {
    // In order while the outbox takes them; on 107 the same one again later.
    while (next < N) {
      const i = next;
      let refused = false, sync = true;
      pub.publish("load/" + i, "m" + i, { qos: 1 }, (e: any) => {
        if (e && e.code == 107 && sync) {
          refused = true;
          return;
        }
        calls[i]++;
        if (e) bad.push(`publish ${i}: error ${e.code}`);
        else acked++;
      });
      sync = false;
      if (refused) {
        full++;
        break;
      }
      next++;
    }
    await sim.run(50, 10);
    vt += 50;
  }
  await sim.run(500, 10); // late callbacks would show up as a second call

  // What the broker sent the subscriber, message by message, over all its connections.
  const wire: string[] = [];
  for (const c of sim.connections) if (c.state != "refused" && clientOf(c) == "sub") wire.push(...publishesIn(c));
  let inversions = 0;
  for (let k = 1; k < first.length; k++) if (first[k] < first[k - 1]) inversions++;
  console.log(`nothing-lost (${label}): seed=${seed} drops=${drops} refused(107)=${full} deliveries=${order.length} ` +
    `resent=${pub.stats.resent} reconnects=${pub.stats.reconnects}+${sub.stats.reconnects} broker-inversions=${inversions} ` +
    `virtual=${vt} ms real=${Date.now() - start} ms`);

  expect(bad, `seed ${seed}`).toEqual([]);
  for (let i = 0; i < N; i++) if (calls[i] != 1) throw new Error(`seed ${seed}: publish ${i} callback fired ${calls[i]} times`);
  expect(acked).toBe(N);
  expect(first.length, `seed ${seed}: distinct messages received`).toBe(N);
  for (let k = 1; k < N; k++) {
    if (arrived[k] < arrived[k - 1]) throw new Error(`seed ${seed}: first arrivals at the broker out of order at ${k}: ${arrived.slice(Math.max(0, k - 3), k + 3)}`);
  }
  expect(order, `seed ${seed}: the subscriber delivers in the order the messages came off its socket`).toEqual(wire);
  if (!dropSubscriber) {
    for (let k = 1; k < N; k++) {
      if (first[k] < first[k - 1]) throw new Error(`seed ${seed}: first deliveries out of order at ${k}: ${first.slice(Math.max(0, k - 3), k + 3)}`);
    }
  }
  expect(drops, `seed ${seed}`).toBeGreaterThan(10);
  expect(full, `seed ${seed}: the outbox filled up at least once`).toBeGreaterThan(0);
  expect(pub.stats.resent, `seed ${seed}: resends in a resumed session`).toBeGreaterThan(0);
  expect(sim.violations).toEqual([]);

  pub.end(true);
  sub.end(true);
  await aedes.stop();
}

describe.each([
  [String(CHUNK || "default"), CHUNK],
  ["1", 1],
])("nothing lost (chunkSize %s)", (label, chunkSize) => {
  it(`${N} QoS 1 publishes, the publisher's link dropping about every 50 packets: each acked once, each received, first deliveries in publish order`, async () => {
    await run(`chunk ${label}, publisher drops`, chunkSize, false);
  });

  it(`${N} QoS 1 publishes, both links dropping about every 50 packets: each acked once, each received, no reordering by the client`, async () => {
    await run(`chunk ${label}, both drop`, chunkSize, true);
  });
});
