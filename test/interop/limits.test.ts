// The receive limit over real TCP: README says a PUBLISH larger than the receive buffer (rxSize)
// is skipped, acknowledged if QoS 1, reported as error 210, and the connection stays up. Checked
// with a real broker and with a scripted server that sends the same bytes in one write or in two:
// what the client does must not depend on how TCP happens to cut the stream.
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mosquittoMissing, startMosquitto, Mosquitto } from "./mosquitto";
// @ts-ignore: plain ESM helper, shared with the benchmark scripts
import { skipIfMissing } from "../tools.mjs";
import { aedesBroker, AedesBroker, loadBundle, maxPayloadForBody, pattern, require_, sleep, until } from "./util";

const mqttPacket = require_("mqtt-packet");
const RX = 256;

let mqttiny: any;
beforeAll(() => {
  mqttiny = loadBundle();
}, 180_000);

interface Seen {
  msgs: { topic: string; n: number }[];
  errors: number[];
  closes: number;
  client: any;
}

function watch(c: any): Seen {
  const s: Seen = { msgs: [], errors: [], closes: 0, client: c };
  c.on("message", (t: string, p: Buffer) => s.msgs.push({ topic: t, n: p.length }));
  c.on("error", (e: any) => s.errors.push(e.code));
  c.on("close", () => s.closes++);
  return s;
}

/** A server that answers CONNECT with CONNACK, then writes `chunks` with a pause between them. */
async function scripted(chunks: Buffer[]): Promise<{ port: number; close(): Promise<void> }> {
  const socks = new Set<net.Socket>();
  const server = net.createServer((s) => {
    socks.add(s);
    s.on("error", () => {});
    s.once("data", async () => {
      s.write(Buffer.from([0x20, 2, 0, 0]));
      for (const c of chunks) {
        await sleep(30);
        s.write(c);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const s of socks) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

const publish = (topic: string, n: number) => mqttPacket.generate({ cmd: "publish", topic, payload: pattern(n), qos: 0, retain: false, dup: false });

describe("a PUBLISH over rxSize from a scripted server (rxSize " + RX + ")", () => {
  // Body = 2 + topic + payload: the largest that fits, and one byte more.
  const fits = maxPayloadForBody("big", 0, RX);

  for (const split of [false, true]) {
    it(`${split ? "in two writes" : "in one write"}: one byte over is skipped with 210, the largest that fits is delivered, the connection stays up`, async () => {
      const over = publish("big", fits + 1), ok = publish("fit", fits), after = publish("after", 3);
      const chunks = split ? [over.subarray(0, 100), over.subarray(100), ok, after] : [Buffer.concat([over]), ok, after];
      const srv = await scripted(chunks);
      const s = watch(mqttiny.connect("mqtt://127.0.0.1:" + srv.port, { rxSize: RX, reconnectPeriod: 0 }));
      try {
        await until(() => s.msgs.some((m) => m.topic === "after") || s.closes > 0, 5000, "the last message");
        expect(s.closes).toBe(0);
        expect(s.msgs).toEqual([
          { topic: "fit", n: fits },
          { topic: "after", n: 3 },
        ]);
        expect(s.errors).toEqual([210]);
        expect(s.client.stats.skipped).toBe(1);
      } finally {
        s.client.end(true);
        await srv.close();
      }
    });
  }
});

/** The same through a real broker, from MQTT.js; the broker writes each PUBLISH in one go. */
async function throughBroker(port: number): Promise<void> {
  const mqtt = require_("mqtt");
  const topic = "limits/" + Math.random().toString(36).slice(2);
  const fits = maxPayloadForBody(topic, 1, RX);
  const s = watch(mqttiny.connect("mqtt://127.0.0.1:" + port, { rxSize: RX, reconnectPeriod: 0 }));
  const peer = mqtt.connect({ host: "127.0.0.1", port, protocolVersion: 4, reconnectPeriod: 0 });
  try {
    await new Promise<void>((r, j) => s.client.subscribe(topic, { qos: 1 }, (e: any) => (e ? j(e) : r())));
    for (const n of [fits + 1, fits, 3]) await peer.publishAsync(topic, pattern(n), { qos: 1 });
    await until(() => s.msgs.some((m) => m.n === 3) || s.closes > 0, 5000, "the last message");
    expect(s.closes).toBe(0);
    expect(s.msgs.map((m) => m.n)).toEqual([fits, 3]);
    expect(s.errors).toEqual([210]);
  } finally {
    peer.end(true);
    s.client.end(true);
  }
}

const noMosquitto = skipIfMissing("interop/limits through Mosquitto", mosquittoMissing());
describe.skipIf(noMosquitto)("a PUBLISH over rxSize through Mosquitto", () => {
  let mq: Mosquitto;
  beforeAll(async () => {
    mq = await startMosquitto();
  });
  afterAll(async () => {
    await mq?.dispose();
  });
  it("is skipped with 210 (acknowledged), the one that fits and the next are delivered", () => throughBroker(mq.port));
});

describe("a PUBLISH over rxSize through aedes", () => {
  let ab: AedesBroker;
  beforeAll(async () => {
    ab = await aedesBroker();
  });
  afterAll(async () => {
    await ab?.stop();
  });
  it("is skipped with 210 (acknowledged), the one that fits and the next are delivered", () => throughBroker(ab.port));
});
