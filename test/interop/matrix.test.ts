// The interop matrix: our client (the built node bundle) against MQTT.js, mosquitto_pub/_sub and
// Python paho-mqtt, through aedes (embedded, real TCP on 127.0.0.1) and Mosquitto 2, in both
// directions, feature by feature. Every cell is pass or fail (or skip, with the reason, when a
// program is missing); the table is printed and every cell that ran must pass.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mosquittoClientsMissing, mosquittoMissing, startMosquitto, Mosquitto } from "./mosquitto";
import { mosquittoClientsSide, mqttjsSide, oursSide, pahoPython, pahoSide, PahoProcess, peerRetries, Side, Sub } from "./peers";
// @ts-ignore: plain ESM helper, shared with the benchmark scripts
import { skipIfMissing } from "../tools.mjs";
import { aedesBroker, AedesBroker, ALL_BYTES, loadBundle, maxPayloadForBody, maxPayloadForPacket, pattern, sleep, topicMatches, until } from "./util";

const FEATURES = ["qos0", "qos1", "qos2", "retained", "will", "binary", "utf8-topic", "max-payload", "64-subs"] as const;
type Feature = (typeof FEATURES)[number];

/** The node target's defaults (targets/node.ts): outbox bytes for a publish, receive buffer for a packet body. */
const OUTBOX = 16384;
const RX = 8192;

/** How long to watch for something that must not arrive. */
const QUIET = 400;

interface Ctx {
  /** Topic prefix for this cell's row. */
  ns: string;
  from: Side;
  to: Side;
  /** ours -> peer (true) or peer -> ours. */
  oursSends: boolean;
  errors: number[];
}

const same = (a: Buffer, b: Buffer) => Buffer.compare(a, b) === 0;

function check(ok: any, what: string): void {
  if (!ok) throw new Error(what);
}

async function arrive(s: Sub, n: number, what: string): Promise<void> {
  await until(() => s.msgs.length >= n, 5000, what + " (" + s.msgs.length + " of " + n + " arrived)");
}

async function inOrder(c: Ctx, q: number): Promise<void> {
  const t = c.ns + "/q" + q;
  // (Subscribed at QoS 1, or 2 for QoS 2: what arrives is at the lower of the two.)
  const s = await c.to.sub([t], Math.max(q, 1));
  try {
    const sent = [0, 1, 2, 3, 4].map((i) => Buffer.from("q" + q + "-" + i));
    for (const p of sent) await c.from.pub(t, p, q);
    await arrive(s, sent.length, "QoS " + q + " messages");
    await sleep(50);
    check(s.msgs.length === sent.length, "got " + s.msgs.length + " messages, sent " + sent.length);
    s.msgs.forEach((m, i) => {
      check(m.topic === t && same(m.payload, sent[i]), "message " + i + " differs or out of order");
      check(m.qos === q, "message " + i + " delivered at QoS " + m.qos);
      check(!m.retain, "message " + i + " flagged retained");
    });
  } finally {
    await s.close();
  }
}

const features: Record<Feature, (c: Ctx) => Promise<void>> = {
  qos0: (c) => inOrder(c, 0),
  qos1: (c) => inOrder(c, 1),
  // Exactly once, both ways: PUBLISH/PUBREC/PUBREL/PUBCOMP with each peer and broker.
  qos2: (c) => inOrder(c, 2),

  async retained(c) {
    const t = c.ns + "/retained";
    await c.from.pub(t, Buffer.from("kept"), 1, true);
    const s = await c.to.sub([t], 1);
    try {
      await arrive(s, 1, "the retained message on subscribe");
      check(s.msgs[0].retain, "the message sent on subscribe has no retain flag");
      check(same(s.msgs[0].payload, Buffer.from("kept")), "retained payload differs");
    } finally {
      await s.close();
    }
    // An empty retained publish clears it: a new subscription gets nothing.
    await c.from.pub(t, Buffer.alloc(0), 1, true);
    const s2 = await c.to.sub([t], 1);
    try {
      await sleep(QUIET);
      check(s2.msgs.length === 0, "a retained message still delivered after clearing: " + s2.msgs.map((m) => m.payload.toString()).join());
    } finally {
      await s2.close();
    }
  },

  async will(c) {
    const t = c.ns + "/will";
    const s = await c.to.sub([t], 1);
    try {
      const w = await c.from.willClient(t, Buffer.from("gone"), 1);
      await w.abort();
      await arrive(s, 1, "the will after an abrupt disconnect");
      check(s.msgs[0].topic === t && s.msgs[0].payload.toString() === "gone", "will message differs");
      // A clean end: no will.
      const w2 = await c.from.willClient(t, Buffer.from("must-not-appear"), 1);
      await w2.end();
      await sleep(QUIET);
      check(s.msgs.length === 1, "the will was published after a clean end(): " + s.msgs.map((m) => m.payload.toString()).join());
    } finally {
      await s.close();
    }
  },

  async binary(c) {
    const t = c.ns + "/bin";
    const s = await c.to.sub([t], 1);
    try {
      await c.from.pub(t, ALL_BYTES, 1);
      await c.from.pub(t, Buffer.from([0, 0, 255, 0]), 0);
      await arrive(s, 2, "binary payloads");
      check(same(s.msgs[0].payload, ALL_BYTES), "bytes 0..255 differ");
      check(same(s.msgs[1].payload, Buffer.from([0, 0, 255, 0])), "NUL/FF bytes differ");
    } finally {
      await s.close();
    }
  },

  async "utf8-topic"(c) {
    const t = c.ns + "/t/😀/ü/x";
    const body = Buffer.from("héllo 😀 wörld 𝄞", "utf8");
    const s = await c.to.sub([c.ns + "/t/😀/+/x", c.ns + "/t/😀/#"], 1);
    try {
      await c.from.pub(t, body, 1);
      await arrive(s, 1, "a message on a UTF-8 topic");
      await sleep(50);
      for (const m of s.msgs) {
        check(m.topic === t, "topic arrived as " + JSON.stringify(m.topic));
        check(same(m.payload, body), "UTF-8 payload differs");
      }
    } finally {
      await s.close();
    }
  },

  async "max-payload"(c) {
    const t = c.ns + "/max";
    // Sending: the largest publish our outbox holds; receiving: the largest body our buffer holds.
    const n = c.oursSends ? maxPayloadForPacket(t, 1, OUTBOX) : maxPayloadForBody(t, 1, RX);
    const big = pattern(n);
    const s = await c.to.sub([t], 1);
    try {
      if (c.oursSends) {
        // One byte more cannot be sent: refused with 104 at once.
        const e = await c.from.pub(t, pattern(n + 1), 1).then(
          () => null,
          (x) => x
        );
        check(e && /104/.test(e.message), "a publish one byte over the outbox was not refused with 104: " + e);
      }
      await c.from.pub(t, big, 1);
      await arrive(s, 1, "a " + n + "-byte payload");
      check(same(s.msgs[0].payload, big), n + "-byte payload differs (got " + s.msgs[0].payload.length + " bytes)");
    } finally {
      await s.close();
    }
    check(!c.errors.includes(210), "our client skipped a packet (210)");
  },

  async "64-subs"(c) {
    // 64 filters over disjoint subtrees, four shapes of wildcard; three topics under each.
    const filters: string[] = [], topics: string[] = [];
    for (let i = 0; i < 64; i++) {
      const b = c.ns + "/s/" + i;
      filters.push([b + "/+", b + "/#", b + "/+/x", b + "/+/x/#"][i % 4]);
      topics.push(b + "/a", b + "/a/x", b + "/a/x/z");
    }
    topics.push(c.ns + "/s/none/a");
    const want = new Map(filters.map((f) => [f, topics.filter((t) => topicMatches(f, t))]));
    const total = topics.filter((t) => filters.some((f) => topicMatches(f, t))).length;
    const s = await c.to.sub(filters, 1);
    try {
      // Several at a time (mosquitto_pub is a process per message).
      for (let i = 0; i < topics.length; i += 16) await Promise.all(topics.slice(i, i + 16).map((t) => c.from.pub(t, Buffer.from(t), 1)));
      await arrive(s, total, "messages for 64 filters");
      await sleep(200);
      const got = s.msgs.map((m) => m.topic).sort();
      const expected = topics.filter((t) => filters.some((f) => topicMatches(f, t))).sort();
      check(JSON.stringify(got) === JSON.stringify(expected), "delivered " + got.length + " messages, expected " + expected.length);
      for (const m of s.msgs) check(m.payload.toString() === m.topic, "payload differs on " + m.topic);
      if (s.perFilter)
        for (const [f, w] of want) {
          const h = s.perFilter.get(f)!.map((m) => m.topic).sort();
          check(JSON.stringify(h) === JSON.stringify([...w].sort()), "handler of " + f + " got [" + h.join(", ") + "], expected [" + w.join(", ") + "]");
        }
    } finally {
      await s.close();
    }
  },
};

type Cell = "pass" | "fail" | "skip";
interface Row {
  peer: string;
  broker: string;
  dir: string;
  cells: Partial<Record<Feature, Cell>>;
}
const rows: Row[] = [];
const failures: string[] = [];
const skips: string[] = [];

const noMosquitto = mosquittoMissing();
const noClients = mosquittoClientsMissing();
const python = pahoPython();
const noPaho = python ? null : "python3 with paho-mqtt not installed (apt-get install python3-paho-mqtt)";
// One line for each missing program (under CI, a failure); its rows are then "skip" with the reason.
skipIfMissing("interop/matrix, Mosquitto broker rows", noMosquitto);
skipIfMissing("interop/matrix, mosquitto_pub/sub rows", noClients);
skipIfMissing("interop/matrix, paho rows", noPaho);

let mqttiny: any;
let aedes: AedesBroker;
let mosq: Mosquitto | null = null;
let paho: PahoProcess | null = null;

beforeAll(async () => {
  mqttiny = loadBundle();
  aedes = await aedesBroker();
  if (!noMosquitto) mosq = await startMosquitto();
  if (python) paho = new PahoProcess(python);
}, 180_000);

afterAll(async () => {
  await paho?.close();
  await mosq?.dispose();
  await aedes?.stop();
});

type PeerName = "mqttjs" | "mosquitto_pub/sub" | "paho";

/** Runs every feature in both directions for one peer through one broker, in sequence. */
async function runPair(peer: PeerName, broker: string, port: number): Promise<void> {
  const errors: number[] = [];
  const key = (peer + "-" + broker).replace(/[^a-z]/g, "");
  const ours = await oursSide(mqttiny, port, errors);
  const other = peer === "mqttjs" ? await mqttjsSide(port) : peer === "paho" ? await pahoSide(paho!, port) : await mosquittoClientsSide(port);
  try {
    for (const oursSends of [true, false]) {
      const row: Row = { peer, broker, dir: oursSends ? "ours → peer" : "peer → ours", cells: {} };
      rows.push(row);
      for (const f of FEATURES) {
        const c: Ctx = { ns: "mx/" + key + "/" + (oursSends ? "op" : "po") + "/" + f, from: oursSends ? ours : other, to: oursSends ? other : ours, oursSends, errors };
        try {
          await features[f](c);
          row.cells[f] = "pass";
        } catch (e: any) {
          row.cells[f] = "fail";
          failures.push(`${peer} / ${broker} / ${row.dir} / ${f}: ${e && e.message}`);
        }
      }
    }
  } finally {
    await other.dispose();
    await ours.dispose();
  }
  const unexpected = errors.filter((e) => e !== 312); // 312: a will client's cut link
  if (unexpected.length) failures.push(`${peer} / ${broker}: our client reported errors ${JSON.stringify(unexpected)}`);
}

function skipRows(peer: string, broker: string, why: string): void {
  skips.push(`${peer} / ${broker}: ${why}`);
  for (const dir of ["ours → peer", "peer → ours"]) rows.push({ peer, broker, dir, cells: Object.fromEntries(FEATURES.map((f) => [f, "skip"])) });
}

function table(): string {
  const head = ["peer", "broker", "direction", ...FEATURES];
  const body = rows.map((r) => [r.peer, r.broker, r.dir, ...FEATURES.map((f) => r.cells[f] || "-")]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cols: string[]) => "| " + cols.map((c, i) => c.padEnd(w[i])).join(" | ") + " |";
  return [line(head), "|" + w.map((n) => "-".repeat(n + 2)).join("|") + "|", ...body.map(line)].join("\n");
}

describe("interop matrix: ours against MQTT.js, mosquitto_pub/sub and paho, through aedes and Mosquitto", () => {
  it("every feature in both directions passes for every peer and broker", async () => {
    const jobs: Promise<void>[] = [];
    const brokers: [string, number | null, string | null][] = [
      ["aedes", aedes.port, null],
      ["mosquitto", mosq ? mosq.port : null, noMosquitto],
    ];
    for (const [broker, port, why] of brokers)
      for (const peer of ["mqttjs", "mosquitto_pub/sub", "paho"] as PeerName[]) {
        const missing = why || (peer === "mosquitto_pub/sub" ? noClients : peer === "paho" ? noPaho : null);
        if (missing || !port) skipRows(peer, broker, missing || "no broker");
        else jobs.push(runPair(peer, broker, port).catch((e) => void failures.push(`${peer} / ${broker}: ${e && e.stack}`)));
      }
    await Promise.all(jobs);
    const order = (r: Row) => ["mqttjs", "mosquitto_pub/sub", "paho"].indexOf(r.peer) * 10 + (r.broker === "aedes" ? 0 : 5) + (r.dir[0] === "o" ? 0 : 1);
    rows.sort((a, b) => order(a) - order(b));
    console.log("[interop matrix]\n" + table() + (skips.length ? "\nskipped: " + skips.join("; ") : "") + (failures.length ? "\nfailures:\n  " + failures.join("\n  ") : ""));
    if (paho?.errors.length) console.log("[paho stderr] " + paho.errors.join(""));
    if (peerRetries.length) console.log("[peer retries] " + peerRetries.join("; "));
    expect(failures).toEqual([]);
    // Normally about 20 s; the limit is wide so that a failing run still prints its table.
  }, 120_000);
});
