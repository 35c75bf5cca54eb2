// Broker restarts and cut links in the middle of a QoS 1 stream. Our publisher (the minified
// node bundle, clean:false, fixed id) sends 1,000 QoS 1 messages to two persistent subscribers
// (our client, the readable node bundle, and MQTT.js). Mid-stream the broker is restarted on the
// same port and store (SIGTERM: it saves on the way out; SIGKILL: only what its autosave already
// wrote survives) or the links are cut. Our client must reconnect and resend: every message is
// acknowledged by the broker or failed to the app, never dropped silently (asserted), and except
// after a SIGKILL, which loses what the broker acknowledged but had not saved (counted and
// printed, not asserted), every subscriber gets every message at least once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMosquitto, mosquittoMissing, Mosquitto } from "./mosquitto";
// @ts-ignore: plain ESM helper, shared with the benchmark scripts
import { skipIfMissing } from "../tools.mjs";
import { aedesBroker, AedesBroker, loadBundle, proxy, require_, sleep, until } from "./util";

const N = 1000;
/** Most of our publishes not yet acknowledged at once (below the node outbox's 64 slots). */
const WINDOW = 32;

/** The publisher runs the minified bundle, our subscriber the readable one. */
let mqttiny: any, mqttinyMin: any;
const mqttjs = require_("mqtt");

beforeAll(() => {
  mqttiny = loadBundle("mqttiny.js");
  mqttinyMin = loadBundle("mqttiny.min.js");
}, 180_000);

interface Outcome {
  /** Publishes whose callback reported success: the broker acknowledged them. */
  acked: number;
  /** (a) Publishes whose callback reported an error, or that never completed. */
  failedByClient: number;
  /** (b) per subscriber: acknowledged by the broker but never delivered. */
  lostOurs: number;
  lostMqttjs: number;
  /** Deliveries beyond the first (at least once allows them). */
  dupOurs: number;
  dupMqttjs: number;
  /** The lost ones as ranges, e.g. "200-299,512". */
  gapsOurs: string;
  gapsMqttjs: string;
  reconnects: number;
  resent: number;
  errors: number[];
}

/** Something done to the broker or the links once `at` messages were acknowledged. */
type Step = [at: number, run: () => Promise<void> | void];

/**
 * Streams N QoS 1 messages from our publisher (at `pubPort`) to two persistent subscribers (at
 * `subPort`), running each step once when its number of messages were acknowledged.
 * `settle` ms: how long to wait after the last acknowledgement for deliveries still to come when
 * some are missing (a broker that lost them never sends them).
 */
async function stream(tag: string, pubPort: () => number, subPort: () => number, steps: Step[], settle = 3000): Promise<Outcome> {
  const topic = "restart/" + tag;
  const got = { ours: new Map<number, number>(), js: new Map<number, number>() };
  const note = (m: Map<number, number>, payload: Buffer) => {
    const i = +payload.toString().slice(2);
    m.set(i, (m.get(i) || 0) + 1);
  };
  const opts = { reconnectPeriod: 100, reconnectMax: 400, connectTimeout: 3000, keepalive: 10 };

  // Persistent subscribers: subscribed once, then offline and online again with the broker.
  const subOurs = mqttiny.connect("mqtt://127.0.0.1:" + subPort(), { ...opts, clientId: "sub-ours-" + tag, clean: false });
  subOurs.on("error", () => {});
  subOurs.on("message", (t: string, p: Buffer) => t === topic && note(got.ours, p));
  const subJs = mqttjs.connect({ host: "127.0.0.1", port: subPort(), protocolVersion: 4, clientId: "sub-js-" + tag, clean: false, reconnectPeriod: 100, connectTimeout: 3000 });
  subJs.on("error", () => {});
  subJs.on("message", (t: string, p: Buffer) => t === topic && note(got.js, p));
  if (process.env.RESTART_TRACE) {
    const t0 = Date.now(), log = (w: string) => (a?: any) => console.log(`[trace ${tag}] +${Date.now() - t0}ms ours-sub ${w} ${a ? JSON.stringify(a) : ""} received=${got.ours.size}`);
    for (const ev of ["connect", "close", "offline", "reconnect", "error"]) subOurs.on(ev, log(ev));
    subJs.on("connect", (p: any) => console.log(`[trace ${tag}] +${Date.now() - t0}ms mqttjs-sub connect sp=${p.sessionPresent} received=${got.js.size}`));
  }
  await Promise.all([
    new Promise<void>((r, j) => subOurs.subscribe(topic, { qos: 1 }, (e: any) => (e ? j(e) : r()))),
    new Promise<void>((r, j) => subJs.subscribe(topic, { qos: 1 }, (e: any) => (e ? j(e) : r()))),
  ]);

  const pub = mqttinyMin.connect("mqtt://127.0.0.1:" + pubPort(), { ...opts, clientId: "pub-" + tag, clean: false });
  const errors: number[] = [];
  pub.on("error", (e: any) => errors.push(e.code));
  const done = new Map<number, number>(); // index -> 0 acked, or error code
  let next = 0, out = 0, fired = 0, disrupting: Promise<void> | null = null;
  const pace = setInterval(() => {
    for (let k = 0; k < 4 && next < N && out < WINDOW; k++) {
      const i = next++;
      out++;
      pub.publish(topic, "m-" + i, { qos: 1 }, (e: any) => {
        out--;
        if (done.has(i)) errors.push(-1); // a callback twice
        done.set(i, e ? e.code || -2 : 0);
        const acked = [...done.values()].filter((c) => c === 0).length;
        if (fired < steps.length && acked >= steps[fired][0] && !disrupting) {
          const run = steps[fired++][1];
          disrupting = Promise.resolve(run()).finally(() => (disrupting = null));
        }
      });
    }
  }, 2);
  try {
    await until(() => done.size === N && !disrupting, 60000, "every publish to complete (" + done.size + " of " + N + ")");
  } finally {
    clearInterval(pace);
  }
  const ackedSet = [...done.entries()].filter(([, c]) => c === 0).map(([i]) => i);
  // Deliveries may trail the acknowledgements; wait while they still come.
  const complete = () => ackedSet.every((i) => got.ours.has(i) && got.js.has(i));
  let last = -1, quiet = Date.now();
  while (!complete() && Date.now() - quiet < settle) {
    const n = got.ours.size + got.js.size;
    if (n !== last) {
      last = n;
      quiet = Date.now();
    }
    await sleep(20);
  }
  const o: Outcome = {
    acked: ackedSet.length,
    failedByClient: N - ackedSet.length,
    lostOurs: ackedSet.filter((i) => !got.ours.has(i)).length,
    lostMqttjs: ackedSet.filter((i) => !got.js.has(i)).length,
    dupOurs: [...got.ours.values()].reduce((a, b) => a + b - 1, 0),
    dupMqttjs: [...got.js.values()].reduce((a, b) => a + b - 1, 0),
    gapsOurs: ranges(ackedSet.filter((i) => !got.ours.has(i))),
    gapsMqttjs: ranges(ackedSet.filter((i) => !got.js.has(i))),
    reconnects: pub.stats.reconnects,
    resent: pub.stats.resent,
    errors: [...new Set(errors)].sort(),
  };
  await new Promise<void>((r) => pub.end(false, () => r()));
  await new Promise<void>((r) => subOurs.end(false, () => r()));
  await new Promise<void>((r) => subJs.end(false, () => r()));
  return o;
}

function ranges(xs: number[]): string {
  const r: string[] = [];
  xs.sort((a, b) => a - b);
  for (let i = 0; i < xs.length; ) {
    let j = i;
    while (j + 1 < xs.length && xs[j + 1] === xs[j] + 1) j++;
    r.push(i === j ? String(xs[i]) : xs[i] + "-" + xs[j]);
    i = j + 1;
  }
  return r.join(",") || "none";
}

function report(what: string, o: Outcome): void {
  console.log(
    `[restart] ${what}: acked ${o.acked}/${N}; (a) failed or never acknowledged by our client: ${o.failedByClient}; ` +
      `(b) acknowledged by the broker but lost: ours-sub ${o.lostOurs}, mqttjs-sub ${o.lostMqttjs} (lost: ours-sub ${o.gapsOurs}; mqttjs-sub ${o.gapsMqttjs}); ` +
      `duplicates: ours-sub ${o.dupOurs}, mqttjs-sub ${o.dupMqttjs}; publisher reconnects ${o.reconnects}, resent ${o.resent}; error codes seen ${JSON.stringify(o.errors)}`
  );
}

const missing = skipIfMissing("interop/restart", mosquittoMissing());

describe.skipIf(missing)("Mosquitto restarts mid-stream", () => {
  let mq: Mosquitto;
  beforeAll(async () => {
    mq = await startMosquitto();
  });
  afterAll(async () => {
    await mq?.dispose();
  });

  it("SIGTERM then start on the same port and store: every message arrives at least once", async () => {
    const o = await stream("term", () => mq.port, () => mq.port, [[300, () => mq.restart("SIGTERM")]]);
    report("mosquitto SIGTERM", o);
    expect(o.reconnects).toBeGreaterThan(0);
    expect(o.failedByClient).toBe(0);
    expect(o.lostOurs).toBe(0);
    expect(o.lostMqttjs).toBe(0);
    expect(o.errors).not.toContain(-1);
  });

  // In the SIGKILL runs the subscribers are held back (their proxy stops forwarding what the
  // broker sends) from message 200 until the kill at 300, so the broker holds about a hundred
  // acknowledged messages queued for them when it dies: saved, or lost with it.
  const killed = async (tag: string, b: Mosquitto) => {
    const subs = await proxy(() => b.port);
    try {
      return await stream(tag, () => b.port, () => subs.port, [
        [200, () => subs.hold(true)],
        [
          300,
          async () => {
            await b.restart("SIGKILL");
            // A held link reads nothing, so it would not see the broker die: cut it as it died.
            subs.cut();
          },
        ],
      ]);
    } finally {
      await subs.close();
    }
  };

  it("SIGKILL then start: our client fails nothing; what the broker acknowledged and lost is counted", async () => {
    const o = await killed("kill", mq);
    report("mosquitto SIGKILL (saving on every change)", o);
    expect(o.reconnects).toBeGreaterThan(0);
    expect(o.failedByClient).toBe(0);
    expect(o.errors).not.toContain(-1);
  });

  it("SIGKILL of a broker that saves only on exit: (a) is still 0, and (b) shows what it lost", async () => {
    const lazy = await startMosquitto({ autosave: { interval: 3600, onChanges: false } });
    try {
      // Everything since it started is lost: the subscribers' sessions with what was queued for
      // them, and the publisher's session; the subscribers subscribe again (no session present).
      const o = await killed("lazy", lazy);
      report("mosquitto SIGKILL, saving only on exit", o);
      expect(o.reconnects).toBeGreaterThan(0);
      expect(o.failedByClient).toBe(0);
      expect(o.errors).not.toContain(-1);
    } finally {
      await lazy.dispose();
    }
  });

  it("the links cut (a proxy destroys every socket) twice mid-stream: every message arrives at least once", async () => {
    const px = await proxy(() => mq.port);
    try {
      const o = await stream("cut", () => px.port, () => px.port, [[300, () => px.cut()], [700, () => px.cut()]]);
      report("mosquitto link cut x2", o);
      expect(o.reconnects).toBeGreaterThan(0);
      expect(o.failedByClient).toBe(0);
      expect(o.lostOurs).toBe(0);
      expect(o.lostMqttjs).toBe(0);
      expect(o.errors).not.toContain(-1);
    } finally {
      await px.close();
    }
  });
});

describe("aedes (embedded, in-memory persistence kept across broker instances) restarts mid-stream", () => {
  let ab: AedesBroker;
  beforeAll(async () => {
    ab = await aedesBroker();
  });
  afterAll(async () => {
    await ab?.stop();
  });

  it("broker closed and a new one started on the same port and store: every message arrives at least once", async () => {
    const o = await stream("aedes", () => ab.port, () => ab.port, [
      [
        300,
        async () => {
          await ab.stop();
          await sleep(50);
          await ab.start();
        },
      ],
    ]);
    report("aedes restart", o);
    expect(o.reconnects).toBeGreaterThan(0);
    expect(o.failedByClient).toBe(0);
    expect(o.lostOurs).toBe(0);
    expect(o.lostMqttjs).toBe(0);
    expect(o.errors).not.toContain(-1);
  });

  it("the links cut mid-stream: every message arrives at least once", async () => {
    const px = await proxy(() => ab.port);
    try {
      const o = await stream("aedes-cut", () => px.port, () => px.port, [[300, () => px.cut()], [700, () => px.cut()]]);
      report("aedes link cut x2", o);
      expect(o.reconnects).toBeGreaterThan(0);
      expect(o.failedByClient).toBe(0);
      expect(o.lostOurs).toBe(0);
      expect(o.lostMqttjs).toBe(0);
    } finally {
      await px.close();
    }
  });
});
