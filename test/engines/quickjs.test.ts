// The Espruino bundles inside QuickJS (quickjs-emscripten), their sockets bridged to real TCP to an
// embedded aedes on 127.0.0.1: 1,000 QoS 1 messages each way per round with an MQTT.js peer, and
// the engine's memory_used_size after each round must stop growing. quickjs-emscripten exposes
// no JS_RunGC: the figures are taken as they are (QuickJS frees acyclic garbage at once by
// reference counting; only cycles wait for its collector).
import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
// @ts-ignore: plain ESM helper, shared with the command line
import { soak } from "./qjs/soak.mjs";
import { ensureBuilt } from "../bundle/built";

const root = path.resolve(__dirname, "../..");
/** Growth allowed from the figure after round 1 to the one after round 2: 1% or 2 KiB. */
const margin = (m: number) => Math.max(2048, m / 100);

beforeAll(() => ensureBuilt());

describe.each(["espruino-esp8266", "espruino-esp32", "espruino-stm32"])("%s bundle in QuickJS over real TCP", (target: string) => {
  it("moves 2 x 1,000 QoS 1 messages each way with flat memory", async () => {
    const bundle = path.join(root, "dist", target, "mqttiny.min.js");
    expect(fs.existsSync(bundle), `${bundle} missing: run npm run build`).toBe(true);
    const r = await soak({ target, n: 1000, rounds: 2 });
    const f = r.figures.map((x: any) => `${x.label}: ${x.memory_used_size}`);
    console.log(`${target} in QuickJS, memory_used_size:\n  ` + f.join("\n  "));

    expect(r.errors, "uncaught inside QuickJS").toEqual([]);
    expect(r.faults, "Espruino platform misuse").toEqual([]);
    expect(r.state).toMatchObject({ got: 2000, bad: 0, acked: 2000, failed: 0, connects: 1, errors: [] });
    expect(r.peerGot).toBe(2000);
    expect(r.peerBad).toBe(0);
    expect(r.stats).toMatchObject({ sent: 2000, acked: 2000, resent: 0, received: 2000, skipped: 0, reconnects: 0, errors: 0 });

    const at = (label: string) => r.figures.find((x: any) => x.label === label).memory_used_size;
    const m1 = at("after 1000 QoS 1 each way"), m2 = at("after 2000 QoS 1 each way");
    expect(m2, `memory grew from ${m1} to ${m2}`).toBeLessThanOrEqual(m1 + margin(m1));
  });
});
