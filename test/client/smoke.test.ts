import { describe, it, expect } from "vitest";
import { rig, str, text } from "./helpers";
import { ScriptedBroker, startAedes } from "../sim/broker";

describe("client over the simulated network", () => {
  it("sends CONNECT first and fires connect only after CONNACK 0 [MQTT-3.1.0-1]", () => {
    const { sim, make } = rig();
    const broker = new ScriptedBroker(sim);
    const c = make();
    let connected = 0;
    c.on("connect", () => connected++);
    const p = broker.expectPacket("connect");
    expect(p.clientId).toBe("dev1");
    expect(connected).toBe(0);
    broker.connack(0, false);
    broker.expectNoPacket(10);
    expect(connected).toBe(1);
    expect(sim.violations).toEqual([]);
  });

  it("round-trips QoS 1 through aedes", async () => {
    const { sim, make } = rig();
    const a = await startAedes(sim);
    const c = make();
    const got: string[] = [];
    let acked = false;
    c.subscribe("t/#", { qos: 1, handler: (t: string, p: any) => got.push(t + "=" + text(p)) }, () => {
      c.publish("t/x", str("héllo"), { qos: 1 }, (e: any) => (acked = !e));
    });
    await sim.until(() => acked && got.length == 1, 5000);
    expect(got).toEqual(["t/x=héllo"]);
    c.end(true);
    await a.stop();
    expect(sim.violations).toEqual([]);
  });

  it("keeps every method of the client after the decoder and the session have set their fields (the client is its own decoder)", () => {
    const { sim, make, clock } = rig();
    const broker = new ScriptedBroker(sim);
    const c: any = make();
    const codes: number[] = [];
    c.on("error", (e: any) => codes.push(e.code));
    broker.expectPacket("connect");
    broker.connack(0, false);
    clock.flush();
    c.publish("t", "x", { qos: 1 });
    c.subscribe("s", { qos: 1 });
    broker.send(Uint8Array.from(Buffer.from("36050001610001", "hex"))); // QoS 3: malformed, sets the decoder's error
    clock.advance(5000);
    const P = Object.getPrototypeOf(c);
    const shadowed = Object.keys(P).filter((k) => typeof P[k] == "function" && Object.prototype.hasOwnProperty.call(c, k));
    expect(shadowed).toEqual([]);
    expect(codes[0]).toBe(202);
  });
});


describe("events", () => {
  it("a listener that removes itself leaves the next one called; one added during an emit is called from the next", () => {
    const { make } = rig();
    const c: any = make(), got: string[] = [];
    c.once("x", () => got.push("once"));
    c.on("x", () => got.push("on"));
    c._emit("x");
    c._emit("x");
    expect(got).toEqual(["once", "on", "on"]);
    const d: any = make(), seen: string[] = [];
    d.on("y", () => {
      seen.push("first");
      d.on("y", () => seen.push("added"));
    });
    d._emit("y");
    expect(seen).toEqual(["first"]);
    d._emit("y");
    expect(seen).toEqual(["first", "first", "added"]);
  });

  it("a lone once() listener is called once, and nothing is reported", () => {
    const { make } = rig();
    const c: any = make(), errs: any[] = [];
    let n = 0;
    c.on("error", (e: any) => errs.push(e));
    c.once("z", () => n++);
    c._emit("z");
    c._emit("z");
    expect([n, errs]).toEqual([1, []]);
  });
});
