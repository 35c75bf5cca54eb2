// The outbox under random traffic (from a review of the change that made its entries encoded when
// written): random caps, windows and socket back-pressure, an id counter about to wrap, QoS 0
// callbacks that publish again or reconnect, writes that throw, links cut, PUBACKs withheld and
// sessions resumed or not. Checked: no message twice in one connection, no id reused while
// unacknowledged, a DUP resend keeps its id, every callback once, the outbox empty once all is
// acknowledged.
import { describe, it, expect } from "vitest";
import { connected, prng } from "./helpers";

describe("the outbox under random traffic", () => {
  for (let seed = 1; seed <= 60; seed++)
    it("seed " + seed, () => {
      const rnd = prng(seed);
      const sp = rnd() < 0.5;
      const { broker, clock, c, sim } = connected({ clean: !sp, reconnectPeriod: 200, reconnectMax: 400 }, { queueSize: 1 + Math.floor(rnd() * (seed % 2 ? 10 : 400)), inflight: 1 + Math.floor(rnd() * (seed % 3 ? 4 : 200)), outboxSize: 300 + Math.floor(rnd() * (seed % 2 ? 400 : 40000)) }, { highWaterMark: seed % 4 ? 16384 : 40 + Math.floor(rnd() * 200) });
      c.on("error", () => {});
      (c as any)._pid = 65535 - Math.floor(rnd() * 100);
      const count = new Map<number, number>();
      let n = 0;
      // The broker's view: payloads seen in this connection, ids in flight.
      let seen = new Set<string>();
      let inflight = new Map<number, string>(); // id -> payload, unacked, this session
      let session = new Map<number, string>(); // id -> payload, unacked across resumed sessions
      const lastId = new Map<number, string>();
      const delivered = new Set<string>();
      let settling = false;
      function pub(depth: number) {
        const i = n++;
        const q = rnd() < 0.5 ? 1 : 0;
        c.publish("t", "m" + i + "-".repeat(Math.floor(rnd() * 30)), { qos: q }, (e: any) => {
          count.set(i, (count.get(i) || 0) + 1);
          if (settling) return;
          if (!e && depth < 3 && rnd() < 0.3) pub(depth + 1);
          if (!e && rnd() < 0.02) c.reconnect();
        });
      }
      for (let step = 0; step < 150; step++) {
        if (rnd() < 0.6) for (let j = Math.floor(rnd() * (seed % 2 ? 2 : 150)); j >= 0; j--) pub(0);
        if (rnd() < 0.03) sim.throwOnWrite(1);
        clock.advance(Math.floor(rnd() * 60));
        for (let p = broker.nextPacket(); p; p = broker.nextPacket()) {
          if (p.cmd == "connect") {
            const present = sp && rnd() < 0.8;
            seen = new Set();
            inflight = new Map();
            if (!present) session = new Map();
            broker.connack(0, present);
          }
          if (p.cmd == "publish") {
            const pl = String(p.payload).split("-")[0];
            expect(seen.has(pl), `seed ${seed}: ${pl} twice in one connection`).toBe(false);
            seen.add(pl);
            delivered.add(pl);
            if (p.qos == 1) {
              if (p.dup && lastId.has(p.messageId)) expect(lastId.get(p.messageId), `seed ${seed} dup ${pl} id ${p.messageId}`).toBe(pl);
              else expect(session.has(p.messageId) && session.get(p.messageId) != pl, `seed ${seed}: id ${p.messageId} reused for ${pl} while ${session.get(p.messageId)}`).toBe(false);
              session.set(p.messageId, pl);
              lastId.set(p.messageId, pl);
              inflight.set(p.messageId, pl);
              if (rnd() < 0.7) {
                broker.send({ cmd: "puback", messageId: p.messageId });
                session.delete(p.messageId);
                inflight.delete(p.messageId);
              }
            }
          }
        }
        if (rnd() < 0.04) sim.cut();
      }
      // Settle: everything acknowledged.
      settling = true;
      for (const id of inflight.keys()) broker.send({ cmd: "puback", messageId: id });
      for (let r = 0, quiet = 0; r < 500 && quiet < 5; r++) {
        clock.advance(200);
        quiet++;
        if (broker["queue"].length) quiet = 0;
        for (let p = broker.nextPacket(); p; p = broker.nextPacket()) {
          if (p.cmd == "connect") broker.connack(0, false);
          if (p.cmd == "publish") {
            delivered.add(String(p.payload).split("-")[0]);
            if (p.qos == 1) broker.send({ cmd: "puback", messageId: p.messageId });
          }
        }
      }
      const cc: any = c;
      expect([cc._on, cc._qn], `seed ${seed}: ${JSON.stringify(cc._q.slice((cc._qh || 0)).map((e: any) => [e._s, e._h, e._i]))}`).toEqual([0, 0]);
      c.end(true);
      clock.advance(100);
      for (let i = 0; i < n; i++) expect(count.get(i), `seed ${seed} cb ${i}`).toBe(1);
    });
});
