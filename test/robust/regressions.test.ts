// Bugs the robustness work found, each with the exact bytes or calls that showed it. Both socket
// modes (vitest projects).
import { describe, it, expect } from "vitest";
import { rig, MODE } from "../client/helpers";
import { ScriptedBroker } from "../sim/broker";

/** A client over a ScriptedBroker with every event logged in order. */
function setup(opts: any = {}) {
  const r = rig();
  const broker = new ScriptedBroker(r.sim);
  const c = r.make({ clean: false, clientId: "reg", ...opts });
  const log: string[] = [];
  for (const ev of ["connect", "close", "offline", "reconnect"]) c.on(ev, () => log.push(ev));
  c.on("error", (e: any) => log.push("error " + e.code));
  return { ...r, broker, c, log };
}

describe("regressions", () => {
  it("a write that fails while CONNACK resends the outbox: no `connect` after `close` (CONNACK 20 02 00 00)", () => {
    const { sim, clock, broker, c, log } = setup();
    c.publish("t", "x", { qos: 1 });
    broker.expectPacket("connect");
    // The resend of the queued QoS 1 publish, written from inside the CONNACK, fails.
    if (MODE == "espruino") sim.E.failNext(1);
    else sim.throwOnWrite(1);
    broker.send("20 02 00 00");
    clock.flush();
    const code = MODE == "espruino" ? 315 : 312;
    // Was: ["error 31x", "close", "offline", "connect"] with c.connected false.
    expect(log).toEqual([`error ${code}`, "close", "offline"]);
    expect(c.connected).toBe(false);
    // The next connection resends it and connects for real.
    broker.expectPacket("connect");
    broker.send("20 02 00 00");
    const p = broker.expectPacket("publish");
    expect([p.topic, p.qos]).toEqual(["t", 1]);
    expect(log.slice(3)).toEqual(["reconnect", "connect"]);
    expect(c.connected).toBe(true);
  });
});
