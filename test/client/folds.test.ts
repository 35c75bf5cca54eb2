// Behaviour that the board core's folds (functions merged into others to save a board's memory,
// 2026-12-06) must keep, each found by a review that compared the code before and after them.
import { describe, it, expect } from "vitest";
import { connected, drain, lines, rig } from "./helpers";
import { ScriptedBroker } from "../sim/broker";

describe("what the folded core keeps", () => {
  it("unsubscribe() sends UNSUBSCRIBE even when the app wrapped subscribe() (subscribe makes both requests)", () => {
    const { broker, c } = connected();
    const orig = c.subscribe, seen: string[] = [];
    (c as any).subscribe = function (f: any, o?: any, cb?: any) {
      seen.push(String(f));
      return orig.call(this, f, o, cb);
    };
    c.unsubscribe("a/b");
    expect(lines(drain(broker, 10))).toEqual(["UNSUBSCRIBE id=1 a/b"]);
    expect(seen).toEqual([]);
  });

  it("a callback that is not a function is reported as error 317 (_emit calls what is not an event's key)", () => {
    const { broker, clock, c } = connected();
    const got: any[] = [];
    c.on("error", (e: any) => got.push("error " + e.code));
    c.publish("t", "x", { qos: 0 }, {} as any);
    drain(broker, 10);
    clock.flush();
    expect(got).toEqual(["error 317"]);
  });

  it("listeners are kept under the first four letters of the event's name (README, Events): on('connected') is on('connect')", () => {
    const { broker, clock, sim, c } = connected({ reconnectPeriod: 100 });
    const got: string[] = [];
    c.on("connected", () => got.push("connected"));
    sim.cut();
    broker.expectPacket("connect");
    broker.connack(0);
    clock.flush();
    expect(got).toEqual(["connected"]);
  });

  it("stats.errors counts every failed callback: those failed by end() (108) and by a refused SUBACK (316) too", () => {
    const { broker, clock, c } = connected();
    const codes: number[] = [];
    c.subscribe("a", (e: any) => codes.push(e && e.code));
    c.subscribe("b", (e: any) => codes.push(e && e.code));
    c.publish("t", "x", { qos: 1 }, (e: any) => codes.push(e && e.code));
    drain(broker, 10);
    broker.send({ cmd: "suback", messageId: 1, granted: [0x80] });
    clock.flush();
    c.end(true);
    clock.flush();
    expect(codes).toEqual([316, 108, 108]);
    expect(c.stats.errors).toBe(3);
  });

  it("reconnectPeriod is whole milliseconds at most reconnectMax: 0.5 retries, Infinity and 3e9 back off to reconnectMax", () => {
    for (const [rp, conns] of [[0.5, 8], [Infinity, 2], [3e9, 2]] as const) {
      const { sim, clock, make } = rig();
      const broker = new ScriptedBroker(sim);
      const c = make({ reconnectPeriod: rp, reconnectMax: 60000 });
      broker.expectPacket("connect");
      broker.connack(0);
      clock.flush();
      sim.cut();
      clock.advance(70000);
      // 0.5: an attempt every connectTimeout; Infinity, 3e9: one after reconnectMax's jitter
      expect(sim.connections.length, `reconnectPeriod ${rp}`).toBe(conns);
      c.end(true);
    }
  });

  it("a ping timeout's PINGRESP that comes after the reconnect is counted as ignored (each connection starts with no ping out)", () => {
    const { broker, clock, c } = connected({ keepalive: 1, reconnectPeriod: 100 });
    broker.expectPacket("pingreq");
    broker.expectPacket("connect");
    broker.send([0xd0, 0]);
    clock.flush();
    expect(c.stats.ignored).toBe(1);
  });
});
