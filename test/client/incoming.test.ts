// Incoming packets: synchronous dispatch before the PUBACK, acknowledgements in arrival order,
// messages nobody handles, a PUBLISH larger than the receive buffer, malformed packets, stray
// acks, QoS 2, packets out of place.
import { describe, it, expect } from "vitest";
import { CHUNKS, connected, drain, lines, record, rig, str, tapWrites, text } from "./helpers";
import mqtt from "mqtt-packet";
import { ScriptedBroker } from "../sim/broker";

/** A client over a ScriptedBroker whose writes are logged, with `message` handler calls, on one timeline. */
function timeline(chunkSize: number | undefined, opts: any = {}, def: any = {}) {
  const r = rig({ chunkSize });
  const order: string[] = [];
  tapWrites(r.sim, (b) => {
    if (b[0] >> 4 == 4) order.push("PUBACK " + ((b[2] << 8) | b[3]));
  });
  const broker = new ScriptedBroker(r.sim);
  const c = r.make(opts, def);
  const log = record(c);
  broker.expectPacket("connect");
  broker.connack(0);
  r.clock.flush();
  return { ...r, c, broker, order, log };
}

describe.each(CHUNKS)("dispatch (chunkSize %s)", (_, chunkSize) => {
  it("runs the handler synchronously, before the PUBACK is written", () => {
    const { c, broker, clock, order } = timeline(chunkSize);
    c.on("message", (t: string, p: any, pk: any) => {
      order.push(`message ${t} ${text(p)} q${pk.qos}`);
    });
    broker.send({ cmd: "publish", topic: "a/b", payload: "hi", qos: 1, messageId: 5 });
    clock.flush();
    expect(order).toEqual(["message a/b hi q1", "PUBACK 5"]);
    expect(broker.expectPacket("puback").messageId).toBe(5);
  });

  it("delivers QoS 1 messages and then acknowledges each, in arrival order [MQTT-4.6.0-2]", () => {
    const { c, broker, clock, order } = timeline(chunkSize);
    c.subscribe("s/+", { qos: 1, handler: (t: string) => order.push("handler " + t) });
    drain(broker, 10);
    c.on("message", (t: string) => order.push("message " + t));
    const ids = [10, 3, 65535, 1, 7];
    // all in one write: one TCP segment, or single bytes with chunkSize 1
    const bytes = Buffer.concat(ids.map((id, i) => mqtt.generate({ cmd: "publish", topic: "s/" + i, payload: "p" + i, qos: 1, messageId: id })));
    broker.send(new Uint8Array(bytes));
    clock.flush();
    const want: string[] = [];
    ids.forEach((id, i) => want.push("message s/" + i, "handler s/" + i, "PUBACK " + id));
    expect(order).toEqual(want);
    expect(drain(broker, 10).map((p) => p.messageId)).toEqual(ids);
    expect(c.stats.received).toBe(5);
  });

  it("acknowledges a QoS 1 message nobody handles [MQTT-4.5.0-2], and does not ack QoS 0", () => {
    const { broker, clock, c } = timeline(chunkSize);
    broker.send({ cmd: "publish", topic: "nobody/listens", payload: "x", qos: 1, messageId: 42 });
    broker.send({ cmd: "publish", topic: "nobody/listens", payload: "y", qos: 0 });
    clock.flush();
    expect(lines(drain(broker, 10))).toEqual(["PUBACK id=42"]);
    expect(c.stats.received).toBe(2);
  });

  it("gives the app topic, payload bytes and { qos, retain, dup } as sent", () => {
    const { broker, clock, c } = timeline(chunkSize);
    const got: any[] = [];
    c.on("message", (t: string, p: any, pk: any) => got.push([t, typeof p == "string" ? Buffer.from(p, "latin1") : Buffer.from(p), { ...pk }]));
    const bin = Buffer.from([0, 1, 2, 127, 128, 200, 255]);
    broker.send({ cmd: "publish", topic: "sensor/température", payload: bin, qos: 1, messageId: 9, retain: true, dup: true });
    broker.send({ cmd: "publish", topic: "e", payload: Buffer.alloc(0), qos: 0, retain: false });
    clock.flush();
    expect(got[0][0]).toBe(str("sensor/température"));
    expect([...got[0][1]]).toEqual([...bin]);
    expect(got[0][2]).toEqual({ qos: 1, retain: true, dup: true });
    expect(got[1][1].length).toBe(0);
    expect(got[1][2]).toEqual({ qos: 0, retain: false, dup: false });
  });

  it("skips a PUBLISH larger than the receive buffer: acked if QoS 1, counted, error 210, connection kept", () => {
    const { broker, clock, c, log } = timeline(chunkSize, {}, { rxSize: 512 });
    const got: string[] = [];
    c.on("message", (t: string, p: any) => got.push(t + "=" + text(p).length));
    broker.send({ cmd: "publish", topic: "big/1", payload: Buffer.alloc(2000, 65), qos: 1, messageId: 77 });
    broker.send({ cmd: "publish", topic: "big/0", payload: Buffer.alloc(600, 66), qos: 0 });
    broker.send({ cmd: "publish", topic: "small", payload: Buffer.alloc(400, 67), qos: 1, messageId: 78 });
    clock.flush();
    expect(got).toEqual(["small=400"]);
    expect(lines(drain(broker, 10))).toEqual(["PUBACK id=77", "PUBACK id=78"]);
    expect(c.stats.skipped).toBe(2);
    expect(log).toEqual(["connect sp=0", "error 210", "error 210"]);
    expect(c.connected).toBe(true);
  });

  it("ignores and counts stray acks (an id not in flight) and unsolicited PINGRESPs; the connection stays up", () => {
    const { broker, clock, c, log } = timeline(chunkSize);
    broker.send({ cmd: "puback", messageId: 9 });
    broker.send({ cmd: "suback", messageId: 3, granted: [0] });
    broker.send({ cmd: "unsuback", messageId: 4 });
    broker.send({ cmd: "pingresp" });
    clock.flush();
    expect(c.stats.ignored).toBe(4);
    expect(log).toEqual(["connect sp=0"]);
    // and an ack that does match still works
    let acked = false;
    c.publish("t", "x", { qos: 1 }, (e: any) => (acked = !e));
    const p = broker.expectPacket("publish");
    broker.send({ cmd: "puback", messageId: p.messageId });
    clock.flush();
    expect(acked).toBe(true);
    expect(c.stats.ignored).toBe(4);
  });
});

describe.each(CHUNKS)("protocol violations (chunkSize %s)", (_, chunkSize) => {
  // Each closes the connection with its code and reconnects [MQTT-4.8.0-1].
  const cases: [string, string, number][] = [
    ["reserved flags on PUBACK [MQTT-2.2.2-2]", "41 02 00 01", 202],
    ["a PUBLISH with QoS 3 [MQTT-3.3.1-4]", "36 05 00 01 61 00 01", 202],
    ["DUP on a QoS 0 PUBLISH [MQTT-3.3.1-2]", "38 03 00 01 61", 202],
    ["packet type 0", "00 00", 203],
    ["a SUBSCRIBE from the server", "82 05 00 01 00 00 00", 203],
    ["a PINGREQ from the server", "c0 00", 203],
    ["Remaining Length over 4 bytes", "30 ff ff ff ff 01", 201],
    ["a PUBACK of 3 bytes", "40 03 00 01 00", 204],
    ["a topic length past the packet's end", "30 04 00 09 61 62", 204],
    ["a wildcard in a received topic [MQTT-3.3.2-2]", "30 05 00 03 61 2f 23", 205],
    ["ill-formed UTF-8 in a received topic [MQTT-1.5.3-1]", "30 04 00 02 c3 28", 205],
    ["packet id 0 [MQTT-2.3.1-1]", "40 02 00 00", 206],
    ["a PUBREC for an id not in flight", "50 02 00 07", 214],
    ["a second CONNACK", "20 02 00 00", 211],
  ];
  for (const [name, hex, code] of cases) {
    it(`${name}: error ${code}, close, offline, reconnect`, () => {
      const { broker, clock, c, log, sim } = connected({ reconnectPeriod: 1000 }, {}, { chunkSize });
      broker.send(hex);
      clock.flush();
      expect(log).toEqual(["connect sp=0", `error ${code}`, "close", "offline"]);
      expect(sim.connections[0].state).toBe("closed");
      expect(c.connected).toBe(false);
      // nothing answers the bad packet (no PUBACK, no PUBREC)
      expect(drain(broker, 0)).toEqual([]);
      broker.expectPacket("connect", 2000);
      broker.connack(0);
      clock.flush();
      expect(c.connected).toBe(true);
      expect(sim.violations).toEqual([]);
    });
  }

  it("a byte corrupted on the way: a coded error and a clean reconnect, never a stuck stream", () => {
    const { broker, clock, c, log, sim } = connected({ reconnectPeriod: 1000 }, {}, { chunkSize });
    sim.corruptNextByte(0, 0xf0); // PUBLISH 0x32 becomes 0xc2: a PINGREQ, which a server never sends
    broker.send({ cmd: "publish", topic: "t", payload: "x", qos: 1, messageId: 1 });
    clock.flush();
    expect(log).toEqual(["connect sp=0", "error 203", "close", "offline"]);
    broker.expectPacket("connect", 2000);
    broker.connack(0);
    broker.send({ cmd: "publish", topic: "t", payload: "x", qos: 1, messageId: 1 });
    clock.flush();
    expect(c.stats.received).toBe(1);
    expect(broker.expectPacket("puback").messageId).toBe(1);
  });
});

describe.each(CHUNKS)("before CONNACK (chunkSize %s)", (_, chunkSize) => {
  for (const [name, pkt] of [
    ["a PUBLISH", { cmd: "publish", topic: "t", payload: "x", qos: 0 }],
    ["a PINGRESP", { cmd: "pingresp" }],
    ["a PUBACK", { cmd: "puback", messageId: 1 }],
  ] as [string, any][]) {
    it(`${name} before CONNACK is a protocol violation (211) [MQTT-3.2.0-1]`, () => {
      const { sim, clock, make } = rig({ chunkSize });
      const broker = new ScriptedBroker(sim);
      const c = make({ reconnectPeriod: 1000 });
      const log = record(c);
      let msgs = 0;
      c.on("message", () => msgs++);
      broker.expectPacket("connect");
      broker.send(pkt);
      broker.connack(0);
      clock.flush();
      expect(log).toEqual(["error 211", "close"]);
      expect(msgs).toBe(0);
      expect(c.connected).toBe(false);
      broker.expectPacket("connect", 2000);
    });
  }
});
