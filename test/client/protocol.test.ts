// The client's side of the protocol, checked packet by packet from the broker's side while a
// seeded random app and broker do everything at once: publishes of both QoS, subscriptions,
// messages both ways, acks withheld, links cut, sessions resumed or not, and end() at last.
// What the spec asks of every packet the client sends is asserted as it arrives.
import { describe, it, expect } from "vitest";
import { CHUNKS, connected, prng } from "./helpers";
import type { Packet } from "../sim/broker";

describe.each(CHUNKS)("protocol rules under random load (chunkSize %s)", (_, chunkSize) => {
  const seeds = process.env.SEED ? [Number(process.env.SEED)] : [11, 12, 13];
  it.each(seeds)("seed %s: ids, DUP, resend order, ack order and nothing lost hold at every packet", (seed) => {
    const rnd = prng(seed);
    const tr: string[] = [];
    const { broker, clock, c, sim } = connected({ clean: false, keepalive: 5, reconnectPeriod: 100, reconnectMax: 300 }, { inflight: 3, queueSize: 6 }, { chunkSize, highWaterMark: 40, trace: process.env.TRACE ? (l: string) => tr.push(l) : undefined });
    const fail = (msg: string) => {
      if (process.env.TRACE) console.log(tr.slice(-60).join("\n")); // TRACE=1 SEED=n: the packets before the failure
      throw new Error(`seed ${seed}: ${msg}`);
    };

    // The session as the broker keeps it: ids the client sent and that were not acked, in order.
    let unacked = new Map<number, string>();
    // Requests (SUBSCRIBE/UNSUBSCRIBE) waiting for their ack, by id.
    let requests = new Set<number>();
    let afterConnack = true; // connected() answered the first CONNECT
    let resends: string[] = []; // what a resumed session must resend first, in order
    let resending = false; // no new QoS 1 publish yet since a CONNACK with session present
    let inbound: number[] = []; // ids of QoS 1 messages the broker sent on this connection, in order
    let disconnected = false;
    const firstArrival: string[] = [];
    const arrived = new Set<string>();
    let conn = broker.conn;

    const check = (p: Packet) => {
      if (broker.conn !== conn) {
        conn = broker.conn;
        afterConnack = false;
        inbound = [];
        disconnected = false;
      }
      if (disconnected) fail(`${p.cmd} after DISCONNECT [MQTT-3.14.4-2]`);
      if (!afterConnack) {
        if (p.cmd != "connect") fail(`${p.cmd} before CONNACK (CONNECT must be first [MQTT-3.1.0-1])`);
        const sp = !!unacked.size && rnd() < 0.7;
        if (!sp) {
          unacked = new Map();
          requests = new Set();
        }
        resends = [...unacked.values()];
        resending = sp;
        broker.connack(0, sp);
        afterConnack = true;
        return;
      }
      if (p.cmd == "publish") {
        const s = String(p.payload);
        if (!arrived.has(s)) {
          arrived.add(s);
          firstArrival.push(s);
        }
        if (p.qos == 0) {
          if (p.dup) fail("DUP on QoS 0 [MQTT-3.3.1-2]");
          if (resends.length) fail(`QoS 0 ${s} before the resends ${resends} [MQTT-4.6.0-1]`);
          return;
        }
        const id = p.messageId;
        if (!id) fail("packet id 0 [MQTT-2.3.1-1]");
        if (p.dup) {
          // A resend: only first thing in a resumed session, in the original order, with its id
          // [MQTT-4.4.0-1, MQTT-4.6.0-1]. Besides what the broker saw, it may include a publish
          // written to a socket that died before it got here.
          if (!resending) fail(`DUP=1 on ${s}, not a resend at the start of a resumed session`);
          if (unacked.has(id) && unacked.get(id) != s) fail(`resend ${s} with the id ${id} of ${unacked.get(id)}`);
          if (resends.includes(s) && resends[0] != s) fail(`resend ${s} before ${resends[0]} [MQTT-4.6.0-1]`);
          if (resends[0] == s) resends.shift();
          else if ([...unacked.values()].includes(s) && unacked.get(id) != s) fail(`resend ${s} with a new id ${id} [MQTT-2.3.1-3]`);
          unacked.set(id, s);
        } else {
          resending = false;
          if (resends.length) fail(`new publish ${s} before the resends ${resends} [MQTT-4.6.0-1]`);
          if (unacked.has(id) || requests.has(id)) fail(`id ${id} of ${s} is in use [MQTT-2.3.1-2]`);
          unacked.set(id, s);
        }
        if (rnd() < 0.85) {
          broker.send({ cmd: "puback", messageId: id });
          unacked.delete(id);
        }
      } else if (p.cmd == "subscribe" || p.cmd == "unsubscribe") {
        const id = p.messageId;
        if (!id || unacked.has(id) || requests.has(id)) fail(`${p.cmd} id ${id} is 0 or in use [MQTT-2.3.1-2]`);
        if (rnd() < 0.8) {
          if (p.cmd == "subscribe") broker.send({ cmd: "suback", messageId: id, granted: p.subscriptions.map((x: any) => x.qos) });
          else broker.send({ cmd: "unsuback", messageId: id });
        } else requests.add(id);
      } else if (p.cmd == "puback") {
        const want = inbound.shift();
        if (p.messageId !== want) fail(`PUBACK ${p.messageId}, want ${want}: acks in arrival order [MQTT-4.6.0-2]`);
      } else if (p.cmd == "pingreq") {
        if (rnd() < 0.9) broker.send({ cmd: "pingresp" });
      } else if (p.cmd == "disconnect") {
        disconnected = true;
      } else fail(`unexpected ${p.cmd}`);
    };

    /** Answers everything that came, and lets the answers arrive, so a cut never races an ack the model counted. */
    const settle = () => {
      for (let p = broker.nextPacket(); p; p = broker.nextPacket()) {
        check(p);
        clock.flush();
      }
    };

    const results = new Map<string, any[]>();
    let inId = 1, n = 0;
    const published: string[] = []; // accepted QoS 1 publishes, in publish order
    for (let step = 0; step < 400; step++) {
      const r = rnd();
      if (r < 0.45) {
        const name = "p" + n++, q = rnd() < 0.7 ? 1 : 0;
        let refused = false, sync = true;
        c.publish("t/" + name, name, { qos: q }, (e: any) => {
          if (sync && e && e.code == 107) refused = true;
          else results.set(name, [...(results.get(name) || []), e ? e.code : "ok"]);
        });
        sync = false;
        if (!refused && q) published.push(name);
      } else if (r < 0.55) {
        c.subscribe("s/" + Math.floor(rnd() * 3), { qos: rnd() < 0.5 ? 1 : 0 });
      } else if (r < 0.6) {
        c.unsubscribe("s/" + Math.floor(rnd() * 3));
      } else if (r < 0.75 && c.connected) {
        const id = inId;
        inId = (inId % 65535) + 1;
        broker.send({ cmd: "publish", topic: "s/1", payload: "in", qos: 1, messageId: id });
        if (broker.conn === conn) inbound.push(id);
      } else if (r < 0.78) {
        sim.cut();
      } else if (r < 0.83) {
        sim.slowWrites(rnd() < 0.5 ? 0 : Math.floor(rnd() * 100)); // back-pressure comes and goes
      }
      clock.advance(Math.floor(rnd() * 60));
      settle();
    }
    // Quiet down: ack everything, until the outbox is empty.
    sim.slowWrites(0);
    for (let k = 0; k < 400 && !published.every((name) => results.has(name)); k++) {
      clock.advance(50);
      settle();
      for (const id of [...unacked.keys()]) {
        broker.send({ cmd: "puback", messageId: id });
        unacked.delete(id);
      }
    }
    c.end();
    clock.advance(6000);
    settle();

    for (const name of published) {
      expect(results.get(name), `${name}, seed ${seed}`).toEqual(["ok"]);
      expect(arrived.has(name), `${name} arrived, seed ${seed}`).toBe(true);
    }
    for (const [name, r] of results) expect(r.length, `${name} callbacks, seed ${seed}`).toBe(1);
    const order = firstArrival.filter((s) => published.includes(s));
    expect(order, `seed ${seed}: QoS 1 publishes reach the broker first in publish order`).toEqual(published);
    expect(sim.violations).toEqual([]);
  });
});
