// The session piece on Node across two processes (a restart of the program): the first publishes
// 10 QoS 1 and 5 QoS 2 messages while the broker is unreachable, saves its session to a file and
// exits; the second reads the file back, connects to aedes and sends every one of them: each QoS 2
// message exactly once, each QoS 1 message at least once. Again with the file truncated: error 216
// and a start without it. And a resumed session: the first process's publishes reach the broker but
// their acks never come back; the second resends them with DUP=1 and their ids. Both processes
// run the built node bundle.
import { execFile, spawn } from "node:child_process";
import net from "node:net";
import mqtt from "mqtt-packet";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aedesBroker, AedesBroker, freePort, loadBundle, root } from "./util";

const BUNDLE = path.join(root, "dist", "node", "mqttiny.js");

/** Runs `code` in a new node process with `m` the bundle; its output lines. (Not spawnSync: aedes runs in this process.) */
function program(code: string): Promise<string[]> {
  return new Promise((resolve) =>
    execFile(process.execPath, ["-e", `const m = require(${JSON.stringify(BUNDLE)});\n${code}`], { encoding: "utf8", timeout: 30000 }, (_e, out, err) =>
      resolve((out + err).split("\n").filter(Boolean))
    )
  );
}

let broker: AedesBroker;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mqttiny-node-session-"));

beforeAll(async () => {
  loadBundle(); // built if missing
  broker = await aedesBroker();
}, 180_000);

afterAll(async () => {
  await broker?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * A proxy to the broker that parses what the client writes, and can hold back what the broker
 * writes (`hold`: acks that never reach the client).
 */
async function recorder() {
  const r = { port: 0, hold: false, sent: [] as any[], close: () => new Promise<void>((ok) => server.close(() => ok())), socks: new Set<net.Socket>() };
  const server = net.createServer((a) => {
    const b = net.connect({ host: "127.0.0.1", port: broker.port });
    const p = mqtt.parser();
    p.on("packet", (pk: any) => r.sent.push(pk));
    r.socks.add(a).add(b);
    const end = () => (a.destroy(), b.destroy());
    a.on("error", end).on("close", end);
    b.on("error", end).on("close", end);
    a.on("data", (d) => (p.parse(d), b.write(d)));
    b.on("data", (d) => r.hold || a.write(d));
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  r.port = (server.address() as net.AddressInfo).port;
  r.close = () => {
    for (const x of r.socks) x.destroy();
    return new Promise<void>((ok) => server.close(() => ok()));
  };
  return r;
}

/** Process 1: offline, publishes, saves to `file`. */
async function first(file: string) {
  const dead = await freePort();
  return program(`
    const c = m.connect({ host: "127.0.0.1", port: ${dead}, clientId: "node1", clean: false, session: ${JSON.stringify(file)}, reconnectPeriod: 60000 });
    c.on("error", () => {});
    for (let i = 0; i < 10; i++) c.publish("reboot/q1", "one " + i, { qos: 1 });
    for (let i = 0; i < 5; i++) c.publish("reboot/q2", "two " + i, { qos: 2 });
    setTimeout(() => { console.log("SAVED " + c.saveSession()); process.exit(0); }, 300);
  `);
}

/** Process 2: reads `file` back, connects to the broker, ends once its outbox is empty. */
function second(file: string) {
  return program(`
    const c = m.connect({ host: "127.0.0.1", port: ${broker.port}, clientId: "node1", clean: false, session: ${JSON.stringify(file)} });
    c.on("error", (e) => console.log("ERROR " + e.code));
    c.on("connect", (k) => { console.log("CONNECT sp=" + k.sessionPresent); c.end(() => process.exit(0)); });
  `);
}

describe("a saved session across two Node processes", () => {
  it("resumed session: what the first process had on the wire, the second resends with DUP=1 and the same ids [MQTT-4.4.0-1]", async () => {
    const file = path.join(dir, "node2.ses");
    const one = await recorder();
    // Process 1: connected; once it says so its acks are held back; publishes, saves, exits.
    const lines: string[] = [];
    await new Promise<void>((done) => {
      const child = spawn(process.execPath, ["-e", `const m = require(${JSON.stringify(BUNDLE)});
        const c = m.connect({ host: "127.0.0.1", port: ${one.port}, clientId: "node2", clean: false, session: ${JSON.stringify(file)}, keepalive: 0 });
        c.on("error", () => {});
        // (A subscription: aedes says session present only for a client that has one.)
        c.once("connect", () => c.subscribe("resume/none", { qos: 1 }, () => { console.log("CONNECTED"); setTimeout(() => {
          for (let i = 0; i < 3; i++) c.publish("resume/q1", "one " + i, { qos: 1 });
          for (let i = 0; i < 2; i++) c.publish("resume/q2", "two " + i, { qos: 2 });
          setTimeout(() => { console.log("SAVED " + c.saveSession()); process.exit(0); }, 300);
        }, 200); }));`]);
      child.stdout.on("data", (d) => {
        lines.push(...String(d).split("\n").filter(Boolean));
        if (String(d).includes("CONNECTED")) one.hold = true;
      });
      child.on("close", () => done());
    });
    await one.close();
    expect(lines).toEqual(["CONNECTED", "SAVED true"]);
    const first = one.sent.filter((p) => p.cmd == "publish");
    expect(first.map((p) => [p.topic, p.dup])).toEqual([["resume/q1", false], ["resume/q1", false], ["resume/q1", false], ["resume/q2", false], ["resume/q2", false]]);
    // Process 2: the broker has the session.
    const two = await recorder();
    const out = await program(`
      const c = m.connect({ host: "127.0.0.1", port: ${two.port}, clientId: "node2", clean: false, session: ${JSON.stringify(file)} });
      c.on("error", (e) => console.log("ERROR " + e.code));
      c.on("connect", (k) => { console.log("CONNECT sp=" + k.sessionPresent); c.end(() => process.exit(0)); });
    `);
    await two.close();
    expect(out).toEqual(["CONNECT sp=true"]);
    const again = two.sent.filter((p) => p.cmd == "publish");
    expect(again.map((p) => [p.topic, p.qos, p.messageId, p.dup])).toEqual(first.map((p) => [p.topic, p.qos, p.messageId, true]));
    // The QoS 2 ones then went on to PUBREL with the same ids.
    expect(two.sent.filter((p) => p.cmd == "pubrel").map((p) => p.messageId)).toEqual(first.filter((p) => p.qos == 2).map((p) => p.messageId));
  }, 60_000);

  it("every message published offline by the first process is sent by the second: QoS 2 exactly once", async () => {
    const file = path.join(dir, "node1.ses");
    const seen = new Map<string, number>();
    const count = (p: any, c: any) => c && c.id == "node1" && seen.set(p.payload.toString(), (seen.get(p.payload.toString()) || 0) + 1);
    broker.broker.on("publish", count);
    try {
      expect(await first(file)).toEqual(["SAVED true"]);
      expect(await second(file)).toEqual(["CONNECT sp=false"]);
    } finally {
      broker.broker.removeListener("publish", count);
    }
    const want = [...Array.from({ length: 10 }, (_, i) => "one " + i), ...Array.from({ length: 5 }, (_, i) => "two " + i)];
    expect([...seen.keys()].sort()).toEqual(want.sort());
    for (let i = 0; i < 5; i++) expect(seen.get("two " + i), "two " + i).toBe(1);
  }, 60_000);

  it("a truncated file: error 216, a start without it, nothing of it sent", async () => {
    const file = path.join(dir, "node1-cut.ses");
    expect(await first(file)).toEqual(["SAVED true"]);
    fs.writeFileSync(file, fs.readFileSync(file).subarray(0, 50));
    const seen: string[] = [];
    const count = (p: any, c: any) => c && c.id == "node1" && seen.push(p.topic);
    broker.broker.on("publish", count);
    try {
      expect(await second(file)).toEqual(["ERROR 216", "CONNECT sp=false"]);
    } finally {
      broker.broker.removeListener("publish", count);
    }
    expect(seen).toEqual([]);
  }, 60_000);
});
