// Builds the real client over the simulated network: the Espruino adapter in "espruino" mode, the
// Node adapter in "node" mode, both on the virtual clock. Every client test runs in both modes.
import { VirtualClock } from "../sim/clock";
import { SimNetwork, Mode } from "../sim/network";
import { Client, Options } from "../../src/client";
import { options, Defaults } from "../../src/api";
import { espruinoPlatform } from "../../src/platform/espruino";
import { nodePlatform } from "../../src/platform/node";

declare const __ESPRUINO__: boolean;

/** The socket mode that matches how the sources were compiled for this vitest project. */
export const MODE: Mode = __ESPRUINO__ ? "espruino" : "node";

/** Device-sized defaults (the esp8266 target's), unless a test gives its own. */
export const DEFAULTS: Defaults = { rxSize: 512, outboxSize: 1024, queueSize: 8, inflight: 2 };

/** Milliseconds per tick of the client's timer in these tests. */
export const TICK = 100;

export interface Rig {
  clock: VirtualClock;
  sim: SimNetwork;
  make(opts?: any, def?: Partial<Defaults>): Client;
}

/** A virtual clock, a simulated network in MODE, and a client factory over them. */
export function rig(simOpts: any = {}): Rig {
  const clock = new VirtualClock({ handles: MODE == "node" ? "object" : "number" });
  const sim = new SimNetwork({ clock, mode: MODE, ...simOpts });
  const env = clock.env();
  const platform = () =>
    MODE == "espruino"
      ? espruinoPlatform(
          {
            _net: () => sim.net,
            _tls: () => sim.tls,
            _E: sim.E,
            _now: () => env.now(),
            _setInterval: env.setInterval,
            _clearInterval: env.clearInterval,
            _setTimeout: env.setTimeout,
          },
          TICK
        )
      : nodePlatform(
          {
            _net: sim.net,
            _tls: sim.tls,
            _now: () => env.now(),
            _setInterval: env.setInterval,
            _clearInterval: env.clearInterval,
            _setTimeout: env.setTimeout,
          },
          TICK
        );
  return {
    clock,
    sim,
    make(opts: any = {}, def: Partial<Defaults> = {}) {
      return new Client(options({ host: "broker", port: 1883, clientId: "dev1", ...opts }, null, { ...DEFAULTS, ...def }), platform());
    },
  };
}

/** Bytes as an app sees them: a string on Espruino (8-bit), a Buffer on Node. */
export function text(payload: any): string {
  return typeof payload == "string" ? Buffer.from(payload, "latin1").toString("utf8") : Buffer.from(payload).toString("utf8");
}

/** A string as the app on this target passes it: UTF-8 bytes in an 8-bit string on Espruino. */
export function str(s: string): string {
  return MODE == "espruino" ? Buffer.from(s, "utf8").toString("latin1") : s;
}
