import { afterEach, describe, expect, it } from "vitest";
import mqtt from "mqtt-packet";
import { VirtualClock } from "./clock";
import { SimNetwork, type Mode } from "./network";
import { ScriptedBroker, startAedes, type AedesHarness } from "./broker";
import { StreamDecoder, formatPacket } from "./trace";

/** A tiny MQTT client made of mqtt-packet, talking through a simulated socket of either kind. */
function rawClient(sim: SimNetwork) {
  const packets: any[] = [];
  const errors: Error[] = [];
  const dec = new StreamDecoder((p) => packets.push(p), (e) => errors.push(e));
  const sock: any = sim.net.connect({ host: "broker", port: 1883 });
  const dataTypes = new Set<string>();
  sock.on("data", (d: any) => {
    dataTypes.add(typeof d === "string" ? "string" : Buffer.isBuffer(d) ? "Buffer" : typeof d);
    if (typeof d === "string") {
      expect(d.length).toBeLessThanOrEqual(sim.chunkSize);
      dec.push(Buffer.from(d, "latin1"));
    } else dec.push(d);
  });
  sock.on("error", (e: any) => errors.push(e));
  const send = (p: any) => {
    const b = mqtt.generate(p);
    // Espruino sockets take byte strings; Node sockets take Buffers.
    sock.write(sim.mode === "espruino" ? b.toString("latin1") : b);
  };
  const take = async (cmd: string, maxMs = 5000) => {
    await sim.until(() => packets.some((p) => p.cmd === cmd), maxMs);
    return packets.splice(packets.findIndex((p) => p.cmd === cmd), 1)[0];
  };
  return { sock, packets, errors, send, take, dataTypes };
}

let aedes: AedesHarness | undefined;
afterEach(async () => {
  await aedes?.stop();
  aedes = undefined;
});

describe.each(["node", "espruino"] as Mode[])("aedes through the sim network (%s)", (mode) => {
  it("answers CONNECT, SUBSCRIBE and a QoS 1 PUBLISH round trip", async () => {
    const clock = new VirtualClock({ handles: mode === "node" ? "object" : "number" });
    const lines: string[] = [];
    const sim = new SimNetwork({ clock, mode, chunkSize: mode === "espruino" ? 3 : undefined, trace: (l) => lines.push(l) });
    aedes = await startAedes(sim);
    const c = rawClient(sim);
    c.send({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: true, keepalive: 60, clientId: "dev1", username: "alice", password: Buffer.from("s3cret") });
    const connack = await c.take("connack");
    expect(connack).toMatchObject({ returnCode: 0, sessionPresent: false });

    c.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "t/#", qos: 1 }] });
    expect((await c.take("suback")).granted).toEqual([1]);

    const payload = Buffer.from([0, 1, 2, 200, 255]); // binary survives the string socket
    c.send({ cmd: "publish", topic: "t/x", payload, qos: 1, messageId: 7, retain: false, dup: false });
    expect((await c.take("puback")).messageId).toBe(7);
    const pub = await c.take("publish");
    expect(pub).toMatchObject({ topic: "t/x", qos: 1 });
    expect([...pub.payload]).toEqual([...payload]);
    c.send({ cmd: "puback", messageId: pub.messageId });

    expect(c.errors).toEqual([]);
    expect(sim.violations).toEqual([]);
    expect([...c.dataTypes]).toEqual([mode === "espruino" ? "string" : "Buffer"]);
    expect(lines).toContain("→ CONNECT clean=1 ka=60 id=dev1 user=*** pass=***");
    expect(lines).toContain("← CONNACK 0 sp=0");
    expect(lines).toContain("→ PUBLISH q1 id=7 t=t/x (5 B)");
    expect(lines).toContain("← PUBACK id=7");
    expect(lines).toContain(`← PUBLISH q1 id=${pub.messageId} t=t/x (5 B)`);
    expect(lines[0]).toBe("· #1 connect broker:1883");
    expect(lines.join("\n")).not.toMatch(/alice|s3cret/);
  });

  it("a link dropped mid-PUBLISH is a reset for aedes: no partial message, the will goes out", async () => {
    const clock = new VirtualClock();
    const sim = new SimNetwork({ clock, mode });
    aedes = await startAedes(sim);
    const watcher = rawClient(sim);
    watcher.send({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: true, keepalive: 0, clientId: "w" });
    await watcher.take("connack");
    watcher.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "status", qos: 0 }, { topic: "data", qos: 0 }] });
    await watcher.take("suback");

    const dev = rawClient(sim);
    dev.send({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: true, keepalive: 0, clientId: "dev",
      will: { topic: "status", payload: Buffer.from("gone"), qos: 0, retain: false } });
    await dev.take("connack");
    sim.connections[1].dropAfter(6, "out");
    dev.send({ cmd: "publish", topic: "data", payload: Buffer.from("x".repeat(20)), qos: 0, retain: false, dup: false });
    const will = await watcher.take("publish");
    expect(will.topic).toBe("status");
    expect(String(will.payload)).toBe("gone");
    await sim.run(100);
    expect(watcher.packets.filter((p) => p.cmd === "publish")).toEqual([]);
    expect(dev.errors.map((e: any) => e.code)).toEqual([mode === "node" ? "ECONNRESET" : -9]);
  });

  it("keeps persistent sessions and queued QoS 1 messages across a broker restart", async () => {
    const clock = new VirtualClock();
    const sim = new SimNetwork({ clock, mode });
    aedes = await startAedes(sim);
    const sub = rawClient(sim);
    sub.send({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: false, keepalive: 0, clientId: "sub" });
    await sub.take("connack");
    sub.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "q", qos: 1 }] });
    await sub.take("suback");
    sub.send({ cmd: "disconnect" });
    await sim.until(() => sim.connections[0].state === "closed");

    const pub = rawClient(sim);
    pub.send({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: true, keepalive: 0, clientId: "pub" });
    await pub.take("connack");
    pub.send({ cmd: "publish", topic: "q", payload: Buffer.from("queued"), qos: 1, messageId: 1, retain: false, dup: false });
    await pub.take("puback");

    // Restart: open connections are closed by the broker; new ones are refused while it is down.
    const closes: any[] = [];
    pub.sock.on("close", (e: any) => closes.push(e));
    await aedes.stop();
    await sim.run(10);
    expect(closes).toEqual([false]);
    const refused = rawClient(sim);
    await sim.run(10);
    expect(refused.errors.length).toBe(1);
    await aedes.start();

    const again = rawClient(sim);
    again.send({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: false, keepalive: 0, clientId: "sub" });
    expect((await again.take("connack")).sessionPresent).toBe(true);
    const msg = await again.take("publish");
    expect(msg).toMatchObject({ topic: "q", qos: 1 });
    expect(String(msg.payload)).toBe("queued");
  });
});

describe("ScriptedBroker", () => {
  function setup(mode: Mode = "node", chunkSize?: number) {
    const clock = new VirtualClock({ start: 0 });
    const lines: string[] = [];
    const sim = new SimNetwork({ clock, mode, chunkSize, trace: (l) => lines.push(l) });
    const broker = new ScriptedBroker(sim);
    return { clock, sim, broker, lines };
  }

  it("records the client's bytes and packets, and expectPacket() waits on the clock", () => {
    const { clock, sim, broker } = setup();
    const s: any = sim.net.connect({ host: "b", port: 1883 });
    const connect = mqtt.generate({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: true, keepalive: 30, clientId: "x" } as any);
    clock.setTimeout(() => s.write(connect.subarray(0, 5)), 100);
    clock.setTimeout(() => s.write(connect.subarray(5)), 200);
    expect(broker.nextPacket()).toBeUndefined();
    const p = broker.expectPacket("connect");
    expect(clock.elapsed()).toBe(200);
    expect(p).toMatchObject({ clientId: "x", keepalive: 30, clean: true });
    expect(Buffer.from(broker.bytes()).equals(connect)).toBe(true);
    expect(broker.packets).toHaveLength(1);
  });

  it("expectPacket() fails clearly on the wrong packet and on silence", () => {
    const { clock, sim, broker } = setup();
    const s: any = sim.net.connect({ host: "b", port: 1883 });
    clock.flush();
    s.write(mqtt.generate({ cmd: "pingreq" } as any));
    expect(() => broker.expectPacket("publish")).toThrow("expected PUBLISH, got: → PINGREQ");
    expect(() => broker.expectPacket("publish", 1000)).toThrow(/expected PUBLISH within 1000 ms; got none \(nothing scheduled/);
    expect(clock.elapsed()).toBe(1000); // with nothing scheduled the clock still moves maxMs
    clock.setInterval(() => {}, 100);
    expect(() => broker.expectPacket(undefined, 1000)).toThrow(/within 1000 ms; got none$/);
    expect(clock.elapsed()).toBe(2000);
  });

  it("sends raw bytes, hex or packet objects; a PUBLISH can be split in pieces", () => {
    const { clock, sim, broker } = setup("espruino", 536);
    const s: any = sim.net.connect({ host: "b", port: 1883 });
    const got: string[] = [];
    s.on("data", (d: string) => got.push(d));
    clock.flush();
    broker.connack(0, true);
    clock.flush();
    broker.send("30 07 00 03 61");
    clock.flush();
    broker.send([0x2f, 0x62]);
    clock.flush();
    broker.send("68 69");
    clock.flush();
    expect(got.map((d) => Buffer.from(d, "latin1").toString("hex"))).toEqual(["20020100", "3007000361", "2f62", "6869"]);
  });

  it("expectConnection() waits for the client to reconnect; parse errors are recorded", () => {
    const { clock, sim, broker, lines } = setup();
    clock.setTimeout(() => {
      const s: any = sim.net.connect({ host: "b", port: 1883 });
      s.write(Buffer.from([0x00, 0x00])); // packet type 0 is reserved
    }, 5000);
    const c = broker.expectConnection();
    expect(c.id).toBe(1);
    expect(clock.elapsed()).toBe(5000);
    clock.flush();
    expect(broker.errors).toHaveLength(1);
    expect(lines.some((l) => l.startsWith("→ !! malformed"))).toBe(true);
  });

  it("answers the client's FIN with its own", () => {
    const { clock, sim } = setup();
    const s: any = sim.net.connect({ host: "b", port: 1883 });
    const log: any[] = [];
    s.on("close", (e: boolean) => log.push(e));
    clock.flush();
    s.end();
    clock.flush();
    expect(log).toEqual([false]);
  });
});

describe("formatPacket", () => {
  const fmt = (p: any, d: "→" | "←" = "→") => formatPacket(p, d);
  it("formats every packet type on one line", () => {
    expect(fmt({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: true, keepalive: 60, clientId: "dev1" })).toBe("→ CONNECT clean=1 ka=60 id=dev1");
    expect(fmt({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clean: false, keepalive: 0, clientId: "d", username: "u", password: Buffer.from("p"), will: { topic: "st", payload: Buffer.from("off"), qos: 1, retain: true } }))
      .toBe("→ CONNECT clean=0 ka=0 id=d user=*** pass=*** will=q1 r t=st (3 B)");
    expect(fmt({ cmd: "connack", returnCode: 5, sessionPresent: false }, "←")).toBe("← CONNACK 5 sp=0");
    expect(fmt({ cmd: "publish", qos: 1, messageId: 3, dup: true, retain: false, topic: "sensors/temp", payload: Buffer.alloc(5) })).toBe("→ PUBLISH q1 id=3 dup t=sensors/temp (5 B)");
    expect(fmt({ cmd: "publish", qos: 0, dup: false, retain: true, topic: "a", payload: "é" }, "←")).toBe("← PUBLISH q0 r t=a (2 B)");
    expect(fmt({ cmd: "puback", messageId: 3 }, "←")).toBe("← PUBACK id=3");
    expect(fmt({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "a/+", qos: 1 }, { topic: "b", qos: 0 }] })).toBe("→ SUBSCRIBE id=1 a/+:q1 b:q0");
    expect(fmt({ cmd: "suback", messageId: 1, granted: [1, 128] }, "←")).toBe("← SUBACK id=1 [1,128]");
    expect(fmt({ cmd: "unsubscribe", messageId: 2, unsubscriptions: ["a/+", "b"] })).toBe("→ UNSUBSCRIBE id=2 a/+ b");
    expect(fmt({ cmd: "unsuback", messageId: 2 }, "←")).toBe("← UNSUBACK id=2");
    expect(fmt({ cmd: "pingreq" })).toBe("→ PINGREQ");
    expect(fmt({ cmd: "pingresp" }, "←")).toBe("← PINGRESP");
    expect(fmt({ cmd: "disconnect" })).toBe("→ DISCONNECT");
  });
});
