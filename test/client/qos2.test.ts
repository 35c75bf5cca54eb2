// QoS 2, exactly once (node, espruino-esp32 and espruino-stm32; the sources here are compiled with
// __QOS2__, as those targets are; test/engines checks that the esp8266 and lite bundles refuse it).
// Sending: PUBLISH, PUBREC, PUBREL, PUBCOMP, with the resend rules of a resumed and a new session.
// Receiving: method B of 4.3.3, delivered at the first PUBLISH, its id held until PUBREL.
import { describe, it, expect } from "vitest";
import mqtt from "mqtt-packet";
import { CHUNKS, MODE, connected, drain, errors, lines, text } from "./helpers";

/** The client's next packets as trace lines, after `ms` of virtual time. */
function next(broker: any, ms = 10): string[] {
  return lines(drain(broker, ms));
}

/** Drops the link (the broker closes it) and answers the reconnect's CONNECT with CONNACK `sp`. */
function relink(broker: any, clock: any, sp: boolean) {
  broker.end();
  broker.expectConnection();
  broker.expectPacket("connect");
  broker.connack(0, sp);
  clock.flush();
}

describe.each(CHUNKS)("sending at QoS 2 (chunkSize %s)", (_, chunkSize) => {
  it("PUBLISH, PUBREC, PUBREL with the same id, PUBCOMP; the callback once, at PUBCOMP [MQTT-4.3.3-1]", () => {
    const { c, broker, clock } = connected({}, {}, { chunkSize });
    const done: any[] = [];
    c.publish("m/1", "reading", { qos: 2 }, (e: any) => done.push(e));
    const p = broker.expectPacket("publish");
    expect([p.qos, p.dup, p.messageId > 0]).toEqual([2, false, true]);
    broker.send({ cmd: "pubrec", messageId: p.messageId });
    expect(next(broker)).toEqual([`PUBREL id=${p.messageId}`]);
    expect(done).toEqual([]);
    broker.send({ cmd: "pubcomp", messageId: p.messageId });
    clock.flush();
    expect(done).toEqual([null]);
    expect(c.stats.acked).toBe(1);
    expect(next(broker, 1000)).toEqual([]);
  });

  it("counts a QoS 2 message in the in-flight window until its PUBCOMP", () => {
    const { c, broker, clock } = connected({}, { inflight: 1 }, { chunkSize });
    c.publish("m/a", "a", { qos: 2 });
    c.publish("m/b", "b", { qos: 2 });
    const a = broker.expectPacket("publish");
    expect(next(broker)).toEqual([]);
    broker.send({ cmd: "pubrec", messageId: a.messageId });
    expect(next(broker)).toEqual([`PUBREL id=${a.messageId}`]);
    broker.send({ cmd: "pubcomp", messageId: a.messageId });
    clock.flush();
    expect(next(broker).map((l) => l.replace(/id=\d+/, "id"))).toEqual(["PUBLISH q2 id t=m/b (1 B)"]);
  });

  it("resumed session: the PUBLISH again with DUP=1 before its PUBREC, only the PUBREL after it, same ids, in order [MQTT-4.4.0-1]", () => {
    const { c, broker, clock } = connected({ clean: false }, {}, { chunkSize });
    const done: string[] = [];
    c.publish("m/a", "a", { qos: 2 }, (e: any) => done.push("a " + e));
    c.publish("m/b", "b", { qos: 2 }, (e: any) => done.push("b " + e));
    const a = broker.expectPacket("publish"), b = broker.expectPacket("publish");
    broker.send({ cmd: "pubrec", messageId: a.messageId });
    expect(next(broker)).toEqual([`PUBREL id=${a.messageId}`]);
    relink(broker, clock, true);
    // Never the PUBLISH of a message whose PUBREL went out.
    expect(next(broker)).toEqual([`PUBREL id=${a.messageId}`, `PUBLISH q2 id=${b.messageId} dup t=m/b (1 B)`]);
    broker.send({ cmd: "pubcomp", messageId: a.messageId });
    broker.send({ cmd: "pubrec", messageId: b.messageId });
    expect(next(broker)).toEqual([`PUBREL id=${b.messageId}`]);
    relink(broker, clock, true);
    expect(next(broker)).toEqual([`PUBREL id=${b.messageId}`]);
    broker.send({ cmd: "pubcomp", messageId: b.messageId });
    clock.flush();
    expect(done).toEqual(["a null", "b null"]);
    expect(next(broker, 1000)).toEqual([]);
  });

  it("new session: every unfinished QoS 2 message goes out as a new PUBLISH (new id, DUP=0), before or after PUBREC", () => {
    const { c, broker, clock } = connected({ clean: false }, {}, { chunkSize });
    const done: string[] = [];
    c.publish("m/a", "a", { qos: 2 }, (e: any) => done.push("a " + e));
    c.publish("m/b", "b", { qos: 2 }, (e: any) => done.push("b " + e));
    const a = broker.expectPacket("publish");
    broker.expectPacket("publish");
    broker.send({ cmd: "pubrec", messageId: a.messageId });
    expect(next(broker)).toEqual([`PUBREL id=${a.messageId}`]);
    relink(broker, clock, false);
    const again = drain(broker, 10);
    expect(again.map((p) => [p.cmd, p.topic, p.dup])).toEqual([["publish", "m/a", false], ["publish", "m/b", false]]);
    for (const p of again) {
      broker.send({ cmd: "pubrec", messageId: p.messageId });
      clock.flush();
      broker.send({ cmd: "pubcomp", messageId: p.messageId });
    }
    clock.flush();
    expect(done).toEqual(["a null", "b null"]);
  });

  it.runIf(MODE == "node")("Node: at most qos2Inflight QoS 2 publishes in flight (Mosquitto drops what is beyond its max_inflight_messages), QoS 1 ones pass within inflight", () => {
    const { c, broker, clock } = connected({}, { inflight: 8, qos2Inflight: 2, queueSize: 20, outboxSize: 4096 }, { chunkSize });
    for (let i = 0; i < 4; i++) c.publish("m/" + i, "x", { qos: 2 });
    c.publish("m/q1", "x", { qos: 1 });
    const first = drain(broker, 10);
    expect(first.map((p) => p.topic)).toEqual(["m/0", "m/1"]);
    broker.send({ cmd: "pubrec", messageId: first[0].messageId });
    expect(next(broker)).toEqual([`PUBREL id=${first[0].messageId}`]);
    broker.send({ cmd: "pubcomp", messageId: first[0].messageId });
    clock.flush();
    // (In order: the QoS 1 publish waits behind the QoS 2 ones, as behind a full window.)
    expect(drain(broker, 10).map((p) => p.topic)).toEqual(["m/2"]);
  });

  it("end() fails a QoS 2 message still waiting for its PUBCOMP with 108", () => {
    const { c, broker, clock } = connected({}, {}, { chunkSize });
    const done: any[] = [];
    c.publish("m/a", "a", { qos: 2 }, (e: any) => done.push(e && e.code));
    const a = broker.expectPacket("publish");
    broker.send({ cmd: "pubrec", messageId: a.messageId });
    clock.flush();
    c.end(true);
    clock.flush();
    expect(done).toEqual([108]);
  });

  it.each([
    ["a PUBREC for an id nothing has", (_a: number) => ({ cmd: "pubrec", messageId: 999 })],
    ["a PUBCOMP before the PUBREL", (a: number) => ({ cmd: "pubcomp", messageId: a })],
    ["a PUBCOMP for an id nothing has", (_a: number) => ({ cmd: "pubcomp", messageId: 999 })],
  ])("%s: 214, a clean reconnect, and the message is not lost", (_w, bad) => {
    const { c, broker, clock, log } = connected({ clean: false }, {}, { chunkSize });
    const done: any[] = [];
    c.publish("m/a", "a", { qos: 2 }, (e: any) => done.push(e));
    const a = broker.expectPacket("publish");
    broker.send(bad(a.messageId));
    clock.flush();
    expect(log).toContain("error 214");
    expect(log).toContain("close");
    broker.expectConnection();
    broker.expectPacket("connect");
    broker.connack(0, true);
    const p = broker.expectPacket("publish");
    expect([p.messageId, p.dup]).toEqual([a.messageId, true]);
    broker.send({ cmd: "pubrec", messageId: a.messageId });
    broker.expectPacket("pubrel");
    broker.send({ cmd: "pubcomp", messageId: a.messageId });
    clock.flush();
    expect(done).toEqual([null]);
  });

  it("a second PUBREC after the PUBREL is 214; the reconnect sends the PUBREL again", () => {
    const { c, broker, clock, log } = connected({ clean: false }, {}, { chunkSize });
    c.publish("m/a", "a", { qos: 2 });
    const a = broker.expectPacket("publish");
    broker.send({ cmd: "pubrec", messageId: a.messageId });
    broker.expectPacket("pubrel");
    broker.send({ cmd: "pubrec", messageId: a.messageId });
    clock.flush();
    expect(log).toContain("error 214");
    broker.expectConnection();
    broker.expectPacket("connect");
    broker.connack(0, true);
    expect(next(broker)).toEqual([`PUBREL id=${a.messageId}`]);
  });

  it("a PUBREC for a QoS 1 message is 214; a PUBACK for a QoS 2 message completes nothing", () => {
    const { c, broker, clock, log } = connected({}, {}, { chunkSize });
    const done: any[] = [];
    c.publish("m/2", "x", { qos: 2 }, (e: any) => done.push(e));
    const two = broker.expectPacket("publish");
    broker.send({ cmd: "puback", messageId: two.messageId });
    clock.flush();
    expect(done).toEqual([]);
    expect(c.stats.ignored).toBe(1);
    expect(log).toEqual(["connect sp=0"]);
    c.publish("m/1", "x", { qos: 1 });
    const one = broker.expectPacket("publish");
    broker.send({ cmd: "pubrec", messageId: one.messageId });
    clock.flush();
    expect(log).toContain("error 214");
  });

  it("subscribes at QoS 2", () => {
    const { c, broker, clock } = connected({}, {}, { chunkSize });
    const got: any[] = [];
    c.subscribe("s/#", { qos: 2 }, (e: any, g: any) => got.push(e, g));
    const s = broker.expectPacket("subscribe");
    expect(s.subscriptions).toEqual([{ topic: "s/#", qos: 2 }]);
    broker.send({ cmd: "suback", messageId: s.messageId, granted: [2] });
    clock.flush();
    expect(got).toEqual([null, [{ topic: "s/#", qos: 2 }]]);
  });
});

describe.each(CHUNKS)("receiving at QoS 2 (chunkSize %s)", (_, chunkSize) => {
  function receiver(opts: any = {}, def: any = {}) {
    const r = connected({ clean: false, ...opts }, def, { chunkSize });
    const got: string[] = [];
    r.c.on("message", (t: string, p: any, pk: any) => got.push(`${t} ${text(p)} q${pk.qos}${pk.dup ? " dup" : ""}`));
    return { ...r, got };
  }
  const pub = (id: number, payload = "p" + id, dup = false) => ({ cmd: "publish", topic: "in/x", payload, qos: 2, messageId: id, dup });

  it("delivers at the first PUBLISH, answers PUBREC, never delivers a repeat before PUBREL, answers PUBREL with PUBCOMP [MQTT-4.3.3-2]", () => {
    const { broker, clock, got, c } = receiver();
    broker.send(pub(7));
    clock.flush();
    expect(got).toEqual(["in/x p7 q2"]);
    expect(next(broker)).toEqual(["PUBREC id=7"]);
    broker.send(pub(7, "p7", true));
    clock.flush();
    expect(got).toEqual(["in/x p7 q2"]);
    expect(next(broker)).toEqual(["PUBREC id=7"]);
    broker.send({ cmd: "pubrel", messageId: 7 });
    expect(next(broker)).toEqual(["PUBCOMP id=7"]);
    // After PUBCOMP the id is a new message.
    broker.send(pub(7, "again"));
    clock.flush();
    expect(got).toEqual(["in/x p7 q2", "in/x again q2"]);
    expect(c.stats.received).toBe(2);
  });

  it("answers the PUBLISHes of one burst with PUBRECs in their order [MQTT-4.6.0-3]", () => {
    const { broker, clock, got } = receiver();
    const ids = [9, 3, 65535, 1];
    broker.send(new Uint8Array(Buffer.concat(ids.map((id) => mqtt.generate(pub(id) as any)))));
    clock.flush();
    expect(got).toEqual(ids.map((id) => `in/x p${id} q2`));
    expect(next(broker)).toEqual(ids.map((id) => `PUBREC id=${id}`));
  });

  it("answers a PUBREL for an id it does not hold with PUBCOMP (its PUBCOMP may have been lost)", () => {
    const { broker } = receiver();
    broker.send({ cmd: "pubrel", messageId: 12 });
    expect(next(broker)).toEqual(["PUBCOMP id=12"]);
  });

  it("holds the ids across a reconnect in a resumed session: the broker's resend is not delivered again", () => {
    const { broker, clock, got } = receiver();
    broker.send(pub(5));
    clock.flush();
    expect(next(broker)).toEqual(["PUBREC id=5"]);
    relink(broker, clock, true);
    broker.send(pub(5, "p5", true));
    clock.flush();
    expect(next(broker)).toEqual(["PUBREC id=5"]);
    broker.send({ cmd: "pubrel", messageId: 5 });
    expect(next(broker)).toEqual(["PUBCOMP id=5"]);
    expect(got).toEqual(["in/x p5 q2"]);
  });

  it("forgets them in a new session: the broker forgot too, so the same id is a new message", () => {
    const { broker, clock, got } = receiver();
    broker.send(pub(5));
    clock.flush();
    expect(next(broker)).toEqual(["PUBREC id=5"]);
    relink(broker, clock, false);
    broker.send(pub(5, "new"));
    clock.flush();
    expect(got).toEqual(["in/x p5 q2", "in/x new q2"]);
  });

  it("a handler that drops the connection before the PUBREC: the id is held, and the resend is not delivered twice", () => {
    const { c, broker, clock, got, log } = receiver();
    let once = true;
    c.on("message", () => {
      if (once) c.reconnect();
      once = false;
    });
    broker.send(pub(8));
    clock.flush();
    // (reconnect() opened the next connection at once.)
    expect(broker.connections.length).toBe(2);
    expect(next(broker).map((l) => l.split(" ")[0])).toEqual(["CONNECT"]);
    broker.connack(0, true);
    clock.flush();
    broker.send(pub(8, "p8", true));
    clock.flush();
    expect(got).toEqual(["in/x p8 q2"]);
    expect(next(broker)).toEqual(["PUBREC id=8"]);
    expect(log).toEqual(["connect sp=0", "close", "offline", "reconnect", "connect sp=1"]);
  });

  it("a full table (qos2Held): 215, nothing delivered or acknowledged; delivered after the broker's PUBRELs and resend", () => {
    const { broker, clock, got, log } = receiver({}, { qos2Held: 2 });
    broker.send(pub(1));
    broker.send(pub(2));
    clock.flush();
    expect(next(broker)).toEqual(["PUBREC id=1", "PUBREC id=2"]);
    broker.send(pub(3));
    clock.flush();
    expect(log).toContain("error 215");
    expect(got).toEqual(["in/x p1 q2", "in/x p2 q2"]);
    expect(next(broker)).toEqual([]);
    broker.expectConnection();
    broker.expectPacket("connect");
    broker.connack(0, true);
    clock.flush();
    // As a broker resumes a session: the PUBRELs of what it has PUBRECs for, then the resend.
    broker.send({ cmd: "pubrel", messageId: 1 });
    broker.send({ cmd: "pubrel", messageId: 2 });
    broker.send(pub(3, "p3", true));
    clock.flush();
    expect(next(broker)).toEqual(["PUBCOMP id=1", "PUBCOMP id=2", "PUBREC id=3"]);
    expect(got).toEqual(["in/x p1 q2", "in/x p2 q2", "in/x p3 q2 dup"]);
  });

  it("end() from the handler of a QoS 2 message: its PUBREC goes out before the DISCONNECT (else the broker sends it again)", () => {
    const { c, broker, clock } = receiver();
    c.on("message", () => c.end(true));
    broker.send(pub(7));
    clock.flush();
    expect(next(broker)).toEqual(["PUBREC id=7", "DISCONNECT"]);
  });

  it("a PUBLISH larger than rxSize is skipped (210), answered with PUBREC and held", () => {
    const { broker, clock, got, c } = receiver();
    const codes = errors(c);
    broker.send(pub(4, "x".repeat(600)));
    clock.flush();
    expect(codes).toEqual([210]);
    expect(next(broker)).toEqual(["PUBREC id=4"]);
    broker.send(pub(4, "x".repeat(600), true));
    clock.flush();
    expect(codes).toEqual([210]);
    expect(got).toEqual([]);
  });

  it("a PUBREL whose flags are not 0010 is malformed: 202 [MQTT-3.6.1-1]", () => {
    const { broker, clock, log } = receiver();
    broker.send("60 02 00 07");
    clock.flush();
    expect(log).toContain("error 202");
    expect(log).toContain("close");
  });
});
