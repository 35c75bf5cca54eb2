// The session piece (mqttiny-session): a session saved to a file and read back by a new client, as
// after a reboot. Both socket modes: Storage on Espruino (a Map here, see STORAGE), a file on Node.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it, expect } from "vitest";
import { MODE, STORAGE, drain, lines, record, rig } from "./helpers";
import { ScriptedBroker } from "../sim/broker";

const dir = MODE == "node" ? fs.mkdtempSync(path.join(os.tmpdir(), "mqttiny-session-")) : "";
let seq = 0;
/** A new file name: a Storage name on Espruino, a path on Node. */
const fresh = () => (MODE == "node" ? path.join(dir, "s" + ++seq + ".ses") : "s" + ++seq + ".ses");
const readFile = (f: string): string | undefined => (MODE == "node" ? (fs.existsSync(f) ? fs.readFileSync(f, "latin1") : undefined) : STORAGE.read(f));
const writeFile = (f: string, t: string) => (MODE == "node" ? fs.writeFileSync(f, t, "latin1") : STORAGE.write(f, t));

const OPTS = { clientId: "dev1", clean: false, reconnectPeriod: 100 };

/** A board before its reboot: a client that never reaches a broker (nothing listens). */
function offline(file: string) {
  const r = rig();
  const c = r.make({ ...OPTS, session: file });
  return { ...r, c };
}

/** The board after it: a new client reading `file`, over a ScriptedBroker that answers CONNACK `sp`. */
function reboot(file: string, sp: boolean, opts: any = {}) {
  const r = rig();
  const broker = new ScriptedBroker(r.sim);
  const c = r.make({ ...OPTS, session: file, ...opts }, { inflight: 4 });
  const log = record(c);
  const connect = broker.expectPacket("connect");
  broker.connack(0, sp);
  r.clock.flush();
  return { ...r, broker, c, log, connect };
}

describe("a session saved, then read back after a reboot", () => {
  it("publishes made offline (QoS 0, 1 and 2) go out after the reboot, in order, with the ids they had", () => {
    const f = fresh();
    const a = offline(f);
    a.c.publish("m/0", "zero", { qos: 0 });
    a.c.publish("m/1", "one", { qos: 1 });
    a.c.publish("m/2", "two", { qos: 2 });
    a.clock.advance(500);
    expect(a.c.saveSession()).toBe(true);
    const ids = (a.c as any)._q.map((e: any) => e._i);
    const b = reboot(f, true);
    expect(b.connect.clean).toBe(false);
    const out = drain(b.broker, 10);
    expect(lines(out)).toEqual(["PUBLISH q0 t=m/0 (4 B)", `PUBLISH q1 id=${ids[1]} t=m/1 (3 B)`, `PUBLISH q2 id=${ids[2]} t=m/2 (3 B)`]);
    expect(b.log).toEqual(["connect sp=1"]);
  });

  it("resumed session: what was on the wire goes again with DUP=1 and its id; after PUBREC only the PUBREL [MQTT-4.4.0-1]", () => {
    const f = fresh();
    const a = reboot(fresh(), false, { session: f });
    a.c.publish("m/1", "one", { qos: 1 });
    a.c.publish("m/2", "two", { qos: 2 });
    a.c.publish("m/3", "three", { qos: 2 });
    const [p1, p2, p3] = drain(a.broker, 10);
    a.broker.send({ cmd: "pubrec", messageId: p3.messageId });
    expect(lines(drain(a.broker, 10))).toEqual([`PUBREL id=${p3.messageId}`]);
    a.c.saveSession();
    const b = reboot(f, true);
    expect(lines(drain(b.broker, 10))).toEqual([`PUBLISH q1 id=${p1.messageId} dup t=m/1 (3 B)`, `PUBLISH q2 id=${p2.messageId} dup t=m/2 (3 B)`, `PUBREL id=${p3.messageId}`]);
    // A new publish takes an id none of them holds.
    b.c.publish("m/4", "four", { qos: 1 });
    const p4 = b.broker.expectPacket("publish");
    expect([p1.messageId, p2.messageId, p3.messageId]).not.toContain(p4.messageId);
  });

  it("new session (the broker lost it): renumbered, DUP=0, every one sent again", () => {
    const f = fresh();
    const a = reboot(fresh(), false, { session: f });
    a.c.publish("m/1", "one", { qos: 1 });
    a.c.publish("m/2", "two", { qos: 2 });
    drain(a.broker, 10);
    a.c.saveSession();
    const b = reboot(f, false);
    const out = drain(b.broker, 10);
    expect(out.map((p) => [p.topic, p.qos, p.dup])).toEqual([["m/1", 1, false], ["m/2", 2, false]]);
  });

  it("the held ids of QoS 2 messages received before the reboot: the broker's resend is not delivered again [MQTT-4.3.3-2]", () => {
    const f = fresh();
    const a = reboot(fresh(), false, { session: f });
    const gotA: string[] = [];
    a.c.on("message", (t: string) => gotA.push(t));
    a.broker.send({ cmd: "publish", topic: "in/x", payload: "p", qos: 2, messageId: 7 });
    expect(lines(drain(a.broker, 10))).toEqual(["PUBREC id=7"]);
    a.c.saveSession();
    const b = reboot(f, true);
    const gotB: string[] = [];
    b.c.on("message", (t: string) => gotB.push(t));
    b.broker.send({ cmd: "publish", topic: "in/x", payload: "p", qos: 2, messageId: 7, dup: true });
    b.broker.send({ cmd: "pubrel", messageId: 7 });
    expect(lines(drain(b.broker, 10))).toEqual(["PUBREC id=7", "PUBCOMP id=7"]);
    expect([gotA, gotB]).toEqual([["in/x"], []]);
  });

  it("the subscriptions: made again after the reboot when the broker lost the session", () => {
    const f = fresh();
    const a = reboot(fresh(), false, { session: f });
    a.c.subscribe(["a/#", "b/+"], { qos: 1 });
    const s = a.broker.expectPacket("subscribe");
    a.broker.send({ cmd: "suback", messageId: s.messageId, granted: [1, 1] });
    a.clock.flush();
    a.c.saveSession();
    const b = reboot(f, false);
    expect(b.broker.expectPacket("subscribe").subscriptions).toEqual([{ topic: "a/#", qos: 1 }, { topic: "b/+", qos: 1 }]);
  });

  it("no file yet (the first start): no error, an empty outbox", () => {
    const b = reboot(fresh(), false);
    expect(b.log).toEqual(["connect sp=0"]);
    expect((b.c as any)._on).toBe(0);
  });

  const damaged: [string, (t: string) => string][] = [
    ["truncated", (t) => t.slice(0, t.length - 5)],
    ["cut to its first bytes", (t) => t.slice(0, 3)],
    ["a byte changed", (t) => t.slice(0, 12) + String.fromCharCode(t.charCodeAt(12) ^ 1) + t.slice(13)],
    ["of another format", (t) => "MQS9" + t.slice(4)],
    ["empty", () => ""],
  ];
  for (const [what, damage] of damaged)
    it(`a file ${what}: error 216 on the next turn, and a start without it (never a crash)`, () => {
      const f = fresh();
      const a = offline(f);
      a.c.publish("m/1", "one", { qos: 1 });
      a.c.saveSession();
      writeFile(f, damage(readFile(f)!));
      const b = reboot(f, true);
      expect(b.log).toEqual(["error 216", "connect sp=1"]);
      expect((b.c as any)._on).toBe(0);
      expect(drain(b.broker, 10)).toEqual([]);
    });

  /** A file that passes its checksum (the piece's own sum) with `body` as everything before it. */
  const signed = (body: string) => {
    let h = 0;
    for (let i = 0; i < body.length; i++) h = (h * 31 + body.charCodeAt(i)) & 65535;
    return body + "," + h + "]";
  };
  for (const [what, body] of [
    ["no outbox", `["MQS1","dev1",[],null,{}`],
    ["no held ids", `["MQS1","dev1",null,[],{}`],
    ["no subscriptions", `["MQS1","dev1",[],[],null`],
    ["an entry that is a number", `["MQS1","dev1",[],[7],{}`],
  ])
    it(`a file of the right checksum but the wrong types (${what}): 216 or a clean start, never a throw`, () => {
      const f = fresh();
      writeFile(f, signed(body));
      let b: any;
      expect(() => (b = reboot(f, true))).not.toThrow();
      b.broker.send({ cmd: "publish", topic: "in/x", payload: "p", qos: 2, messageId: 3 });
      expect(() => b.clock.flush()).not.toThrow();
      expect(b.log.filter((l: string) => l.startsWith("error")).every((l: string) => l == "error 216")).toBe(true);
      expect(b.c.connected).toBe(true);
    });

  it("saveSession() says false when the file cannot be written (a full flash), and throws nothing", () => {
    const a = rig();
    const c = a.make({ ...OPTS });
    c.publish("m/1", "x", { qos: 1 });
    if (MODE == "espruino") {
      const write = STORAGE.write;
      STORAGE.write = () => {
        throw new Error("Unable to find or create file"); // Espruino 2v29's, with the flash full
      };
      try {
        expect(c.saveSession("full.ses")).toBe(false);
      } finally {
        STORAGE.write = write;
      }
    } else expect(c.saveSession(path.join(dir, "no-such-dir", "x.ses"))).toBe(false);
  });

  it("another client's file: 216, and a start without it", () => {
    const f = fresh();
    const a = offline(f);
    a.c.publish("m/1", "one", { qos: 1 });
    a.c.saveSession();
    const b = reboot(f, true, { clientId: "dev2" });
    expect(b.log).toEqual(["error 216", "connect sp=1"]);
    expect(drain(b.broker, 10)).toEqual([]);
  });

  it("saves to the file named in the call, else to the `session` option's; with neither, says false", () => {
    const a = rig();
    const c = a.make({ ...OPTS });
    c.publish("m/1", "x", { qos: 1 });
    const f = fresh();
    expect(c.saveSession(f)).toBe(true);
    expect(readFile(f)!.startsWith(`["MQS1",`)).toBe(true);
    expect(c.saveSession()).toBe(false);
    const g = fresh(), d = a.make({ ...OPTS, session: g });
    expect(d.saveSession()).toBe(true);
    expect(readFile(g)!.startsWith(`["MQS1",`)).toBe(true);
  });
});
