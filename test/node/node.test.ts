// The node target as an MQTT.js user meets it (the built bundle, real sockets, aedes): bursts
// accepted and delivered in order, memory given back, 'drain' after a refusal, fresh packet
// objects, once(), errors in words, write back-pressure. And, on the sources over the simulated
// network, the shared receive buffer against a broker that declares huge packets.
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aedesBroker, AedesBroker, loadBundle, sleep, until } from "../interop/util";
import { connected, MODE } from "../client/helpers";

let mqtt: any, broker: AedesBroker;
const opened: any[] = [];
beforeAll(async () => {
  mqtt = loadBundle();
  broker = await aedesBroker();
});
afterAll(async () => {
  for (const c of opened) c.end(true);
  await broker.stop();
});

let ids = 0;
function client(opts: any = {}): Promise<any> {
  const c = mqtt.connect({ host: "127.0.0.1", port: broker.port, clientId: "node-t" + ++ids, reconnectPeriod: 0, ...opts });
  opened.push(c);
  return new Promise((resolve, reject) => {
    c.once("connect", () => resolve(c));
    c.once("error", reject);
  });
}

function subscribe(c: any, topic: string): Promise<any> {
  return new Promise((resolve, reject) => c.subscribe(topic, { qos: 1 }, (e: any) => (e ? reject(e) : resolve(c))));
}

/** `n` QoS 1 publishes in one go; resolves when every callback fired and the subscriber has them all. */
async function burst(pub: any, sub: any, topic: string, n: number) {
  const got: number[] = [], errs: number[] = [];
  let done = 0;
  sub.on("message", (t: string, p: Buffer) => t == topic && got.push(+p.toString()));
  for (let i = 0; i < n; i++)
    pub.publish(topic, String(i), { qos: 1 }, (e: any) => {
      done++;
      if (e) errs.push(e.code);
    });
  await until(() => done == n && got.length >= n - errs.length, 30000, `${n} publishes`);
  return { got, errs };
}

describe("node target: bursts", () => {
  it.each([200, 10000])("%i QoS 1 publish() calls in one go: none refused, all delivered in order, the outbox given back", async (n) => {
    const sub = await subscribe(await client(), "burst/" + n);
    const pub = await client();
    const { got, errs } = await burst(pub, sub, "burst/" + n, n);
    expect(errs).toEqual([]);
    expect(got).toEqual(Array.from({ length: n }, (_, i) => i));
    // Every entry released with its PUBACK (the outbox holds no memory between bursts).
    expect([pub._on, pub._q.length, pub._qn]).toEqual([0, 0, 0]);
  });

  it("past queueSize a publish is refused with 107; 'drain' says when to go on", async () => {
    const sub = await subscribe(await client(), "cap");
    const pub = await client({ queueSize: 100 });
    const codes: number[] = [];
    let drains = 0;
    pub.on("drain", () => drains++);
    for (let i = 0; i < 101; i++) pub.publish("cap", "x", { qos: 1 }, (e: any) => e && codes.push(e.code));
    expect(codes).toEqual([107]);
    expect(pub._on).toBe(100);
    await until(() => drains == 1, 10000, "drain");
    expect(pub._on).toBeLessThanOrEqual(50);
    let ok = false;
    pub.publish("cap", "again", { qos: 1 }, (e: any) => (ok = !e));
    await until(() => ok, 10000, "the publish after drain");
    expect(drains).toBe(1);
    sub.end(true);
  });

  it("past outboxMax bytes: 107 too", async () => {
    const pub = await client({ outboxSize: 1024, outboxMax: 4096, reconnectPeriod: 0 });
    pub.end(true); // offline: nothing leaves the outbox
    const c2 = mqtt.connect({ host: "127.0.0.1", port: 1, clientId: "off", reconnectPeriod: 0, outboxSize: 1024, outboxMax: 4096 });
    opened.push(c2);
    c2.on("error", () => {});
    const codes: number[] = [];
    for (let i = 0; i < 60; i++) c2.publish("t", Buffer.alloc(100), { qos: 1 }, (e: any) => e && codes.push(e.code));
    // Entries of 100 B payloads (a state byte and a 107-byte PUBLISH each) up to 4,096 bytes: 37.
    expect(c2._qn).toBeLessThanOrEqual(4096);
    expect(codes.length).toBe(60 - 37);
    expect(new Set(codes)).toEqual(new Set([107]));
    expect(c2._on).toBe(60 - codes.length);
  });
});

describe("node target: MQTT.js habits", () => {
  it("a fresh packet object for each message", async () => {
    const c = await subscribe(await client(), "fresh");
    const packets: any[] = [];
    c.on("message", (_t: string, _p: any, pk: any) => packets.push(pk));
    c.publish("fresh", "a", { qos: 1 });
    c.publish("fresh", "b", { qos: 0, retain: true });
    await until(() => packets.length == 2, 5000, "two messages");
    expect(packets[0]).not.toBe(packets[1]);
    expect(packets.map((p) => p.qos).sort()).toEqual([0, 1]);
  });

  it("once() and removeAllListeners() on the node bundle", async () => {
    const c = await client();
    let n = 0;
    c.once("x", () => n++);
    c._emit("x");
    c._emit("x");
    expect(n).toBe(1);
    c.on("y", () => n++);
    c.removeAllListeners("y");
    c._emit("y");
    c.on("z", () => n++).removeAllListeners();
    c._emit("z");
    expect(n).toBe(1);
  });

  it("errors say what happened in words, with the code and Node's own message", async () => {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
    const port = (s.address() as any).port;
    await new Promise<void>((r) => s.close(() => r()));
    const c = mqtt.connect({ host: "127.0.0.1", port, reconnectPeriod: 0 });
    opened.push(c);
    const err: any = await new Promise((r) => c.on("error", r));
    expect(err.code).toBe(312);
    expect(err.message).toMatch(/^mqttiny error 312: socket error: connect ECONNREFUSED/);
    expect(err.errno).toBe("ECONNREFUSED");
    expect(err.cause).toBeInstanceOf(Error);
    const e2: any = await new Promise((r) => c.publish("t", 5 as any, (e: any) => r(e)));
    expect(e2.message).toBe("mqttiny error 106: invalid options or arguments");
  });
});

describe("node target: writes", () => {
  // A peer that answers CONNECT and then stops reading: what the client writes beyond what the
  // kernel takes must wait in the outbox (write()'s false, then 'drain'), not pile up in the
  // socket's own buffer, where a burst would cost memory the outbox caps do not bound.
  it("a burst to a peer that stops reading waits in the outbox on write()'s back-pressure, then goes out whole and in order", async () => {
    let peer: net.Socket | undefined, bytes = 0;
    const server = net.createServer((s) => {
      peer = s;
      s.once("data", () => {
        s.write(Buffer.from([0x20, 2, 0, 0]));
        s.pause();
        s.on("data", (d) => (bytes += d.length));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    try {
      // 20 MB: more than the kernel's buffers on loopback take from a peer that does not read.
      const c = await client({ port: (server.address() as any).port, outboxMax: 32 << 20 });
      const n = 20000, payload = "p".repeat(1000);
      let done = 0;
      for (let i = 0; i < n; i++) c.publish("w", payload, { qos: 0 }, () => done++);
      await sleep(300);
      const sock = c._sock;
      // The socket holds at most its high-water mark and the packet that crossed it.
      expect(sock.writableLength).toBeLessThanOrEqual(sock.writableHighWaterMark + 1010);
      expect(c._on).toBeGreaterThan(0);
      expect(done).toBeLessThan(n);
      peer!.resume();
      await until(() => done == n, 20000, "every publish written");
      // Each PUBLISH: header 0x30, 2 length bytes, topic "w" (3 bytes), 1000 payload bytes.
      await until(() => bytes == n * 1006, 20000, "every byte at the peer");
      expect(c._on).toBe(0);
    } finally {
      peer?.destroy();
      server.close();
    }
  });
});

describe("no receive buffer (sources, simulated network)", () => {
  it("a packet spanning chunks is assembled, then the client holds nothing of it", () => {
    const t = connected({}, { rxSize: 4096 }, { chunkSize: 100 });
    const c: any = t.c;
    const got: string[] = [];
    c.on("message", (_t: string, p: any) => got.push(p.toString()));
    t.broker.send({ cmd: "publish", topic: "a", payload: Buffer.from("y".repeat(1000)), qos: 0 });
    t.clock.flush();
    expect(got).toEqual(["y".repeat(1000)]);
    expect([c._buf, c._a, c._d]).toEqual([undefined, 0, 0]);
  });

  it("a PUBLISH declaring 268,435,455 bytes: skipped (210), at most rxSize held", () => {
    const t = connected({}, { rxSize: 512 }, { chunkSize: 1000 });
    const c: any = t.c, codes: number[] = [];
    c.on("error", (e: any) => codes.push(e.code));
    t.broker.send("30ffffff7f000174");
    for (let i = 0; i < 100; i++) t.broker.send(Buffer.alloc(10000, 0x41));
    t.clock.flush();
    expect(codes).toEqual([210]);
    expect(c.connected).toBe(true);
    expect(c._buf).toBe(undefined);
    expect(c._a ? c._a.length : 0).toBeLessThanOrEqual(512);
  });
});
