// An outbox entry keeps its payload and is encoded when written: what the app does with its own
// buffer after publish() must not change what goes out, and end() from inside the callbacks the
// pump runs must still call everything back once (checks from a review of that change).
import { describe, it, expect } from "vitest";
import { connected, drain } from "./helpers";

describe("the payload as published", () => {
  const kinds: [string, () => any, (p: any) => void][] = [
    ["Buffer", () => Buffer.from("abcd"), (p) => p.fill(0x7a)],
    ["Uint8Array", () => Uint8Array.from([97, 98, 99, 100]), (p) => p.fill(0x7a)],
    ["ArrayBuffer", () => Uint8Array.from([97, 98, 99, 100]).buffer, (p) => new Uint8Array(p).fill(0x7a)],
    ["Uint8Array view into a larger buffer", () => new Uint8Array(Uint8Array.from([0, 97, 98, 99, 100, 0]).buffer, 1, 4), (p) => p.fill(0x7a)],
  ];
  for (const [name, make, mutate] of kinds)
    it(`a ${name} changed by the app after publish() (queued: offline) goes out as published`, () => {
      const { broker, c, sim } = connected({ reconnectPeriod: 100 });
      sim.cut();
      broker["sim"].clock.flush();
      const p = make();
      c.publish("t", p, { qos: 1 });
      mutate(p);
      broker.expectPacket("connect");
      broker.connack(0);
      const [pk] = drain(broker, 100);
      expect(Buffer.from(pk.payload).toString("latin1")).toBe("abcd");
    });
});

describe("end() from the callbacks of queued publishes", () => {
  for (const force of [false, true])
    for (const where of ["qos0", "puback"])
      it(`end(${force}) from a ${where} callback: every callback once, nothing written twice`, () => {
        const { broker, clock, c } = connected({}, { queueSize: 8, inflight: 2 });
        const fired: Record<string, (number | null)[]> = {};
        const cb = (n: string, f?: () => void) => (e: any) => {
          (fired[n] = fired[n] || []).push(e ? e.code : null);
          if (f) f();
        };
        let ended = 0;
        if (where == "qos0") {
          c.publish("t", "a", { qos: 1 }, cb("a"));
          c.publish("t", "b", { qos: 1 }, cb("b"));
          c.publish("t", "c", { qos: 1 }, cb("c")); // waits for the window
          c.publish("t", "d", { qos: 0 }, cb("d", () => c.end(force, () => ended++)));
          c.publish("t", "e", { qos: 0 }, cb("e"));
          const w = drain(broker, 10);
          broker.send({ cmd: "puback", messageId: w[0].messageId });
        } else {
          c.publish("t", "a", { qos: 1 }, cb("a", () => c.end(force, () => ended++)));
          c.publish("t", "b", { qos: 1 }, cb("b"));
          c.publish("t", "c", { qos: 0 }, cb("c"));
          c.publish("t", "d", { qos: 1 }, cb("d"));
          c.publish("t", "e", { qos: 0 }, cb("e"));
          const w = drain(broker, 10);
          broker.send({ cmd: "puback", messageId: w[0].messageId });
        }
        const seen: string[] = [];
        for (let i = 0; i < 50; i++) {
          clock.advance(100);
          for (const p of drain(broker)) {
            seen.push(p.cmd + (p.payload ? ":" + String(p.payload) : ""));
            if (p.cmd == "publish" && p.qos == 1) broker.send({ cmd: "puback", messageId: p.messageId });
          }
        }
        clock.advance(20000);
        for (const n of ["a", "b", "c", "d", "e"]) expect(fired[n], n + " " + JSON.stringify(fired) + " " + seen.join(",")).toHaveLength(1);
        expect(ended).toBe(1);
        const pubs = seen.filter((s) => s.startsWith("publish"));
        expect(new Set(pubs).size, seen.join(",")).toBe(pubs.length);
      });
});
