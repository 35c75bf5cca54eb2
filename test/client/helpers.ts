// Builds the real client over the simulated network: the Espruino adapter in "espruino" mode, the
// Node adapter in "node" mode, both on the virtual clock. Every client test runs in both modes.
import { VirtualClock } from "../sim/clock";
import { SimNetwork, SimConnection, Mode } from "../sim/network";
import { ScriptedBroker, Packet } from "../sim/broker";
import { formatPacket } from "../sim/trace";
import { Client, options } from "../../src/full";
import type { Options } from "../../src/client";
import type { Defaults } from "../../src/api";
import { espruinoPlatform } from "../../src/platform/espruino";
import { nodePlatform } from "../../src/platform/node";

declare const __ESPRUINO__: boolean;

/** The socket mode that matches how the sources were compiled for this vitest project. */
export const MODE: Mode = __ESPRUINO__ ? "espruino" : "node";

/** Device-sized defaults (the esp8266 target's, and the QoS 2 targets' qos2Held), unless a test gives its own. */
export const DEFAULTS: Defaults = { rxSize: 512, outboxSize: 1024, queueSize: 8, inflight: 2, qos2Held: 16 };

/** Milliseconds per tick of the client's timer in these tests. */
export const TICK = 100;

/** Bytes per data event: an ESP8266's 268 in the Espruino mode (unless a test gives its own), Node's default otherwise. */
export const CHUNK: number | undefined = MODE == "espruino" ? 268 : undefined;

/** For describe.each: the mode's usual chunks, and one byte per data event. */
export const CHUNKS: [string, number | undefined][] = [[String(CHUNK || "default"), CHUNK], ["1", 1]];

/**
 * Espruino's Storage module as the session piece uses it, over a Map shared by every rig (a board's
 * flash outlives the program): read(name) is the file's text or undefined, write(name, text) true.
 */
export const STORAGE = {
  files: new Map<string, string>(),
  read(name: string): string | undefined {
    return this.files.get(name);
  },
  write(name: string, text: string): boolean {
    this.files.set(name, String(text));
    return true;
  },
};

export interface Rig {
  clock: VirtualClock;
  sim: SimNetwork;
  make(opts?: any, def?: Partial<Defaults>): Client;
}

/** A virtual clock, a simulated network in MODE, and a client factory over them. */
export function rig(simOpts: any = {}): Rig {
  const clock = new VirtualClock({ handles: MODE == "node" ? "object" : "number" });
  const sim = new SimNetwork({ clock, mode: MODE, chunkSize: CHUNK, ...simOpts });
  const env = clock.env();
  const platform = () =>
    MODE == "espruino"
      ? espruinoPlatform(
          {
            _req: (m: string) => (m == "tls" ? sim.tls : m == "Storage" ? STORAGE : sim.net),
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
      return new (Client as any)()._init(options({ host: "broker", port: 1883, clientId: "dev1", ...opts }, null, { ...DEFAULTS, ...def }), platform());
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

// ---- helpers for the behaviour tests --------------------------------------------------------

/** What a client did, in order: "connect sp=0", "error 311", "close", "offline", "reconnect", "end". */
export function record(c: Client, clock?: VirtualClock): string[] {
  const log: string[] = [];
  const at = () => (clock ? "@" + clock.elapsed() + " " : "");
  c.on("connect", (a: any) => log.push(at() + "connect sp=" + (a.sessionPresent ? 1 : 0)));
  c.on("error", (e: any) => log.push(at() + "error " + e.code));
  for (const ev of ["close", "offline", "reconnect", "end"]) c.on(ev, () => log.push(at() + ev));
  return log;
}

/** Error codes a client reported through `error`. */
export function errors(c: Client): number[] {
  const codes: number[] = [];
  c.on("error", (e: any) => codes.push(e.code));
  return codes;
}

/** A client over a ScriptedBroker, connected (CONNECT taken, CONNACK 0 with `sp` delivered). */
export function connected(opts: any = {}, def: Partial<Defaults> = {}, simOpts: any = {}, sp = false) {
  const r = rig(simOpts);
  const broker = new ScriptedBroker(r.sim);
  const c = r.make(opts, def);
  const log = record(c);
  const connect = broker.expectPacket("connect");
  broker.connack(0, sp);
  r.clock.flush();
  if (!c.connected) throw new Error("connected(): the client did not connect: " + log.join(", "));
  return { ...r, broker, c, log, connect };
}

/** Takes the client's next packets of one kind, as many as come within `ms`, in order. */
export function drain(broker: ScriptedBroker, ms = 0): Packet[] {
  broker["sim"].clock.advance(ms);
  const out: Packet[] = [];
  for (let p = broker.nextPacket(); p; p = broker.nextPacket()) out.push(p);
  return out;
}

/** "PUBLISH q1 id=3 dup t=a (2 B)"-style lines for packets, for compact assertions. */
export function lines(ps: Packet[]): string[] {
  return ps.map((p) => formatPacket(p, "→").slice(2));
}

/**
 * Calls fn(bytes, conn) synchronously on every socket write of the client, before the socket
 * takes the bytes: lets a test put writes and application callbacks on one timeline.
 */
export function tapWrites(sim: SimNetwork, fn: (b: Uint8Array, conn: SimConnection) => void): void {
  const net: any = sim.net, connect = net.connect;
  net.connect = (...args: any[]) => {
    const s = connect(...args);
    const conn = sim.connections[sim.connections.length - 1];
    const w = s.write;
    s.write = function (x: any, ...rest: any[]) {
      fn(typeof x == "string" ? Uint8Array.from(Buffer.from(x, "latin1")) : Uint8Array.from(x), conn);
      return w.call(this, x, ...rest);
    };
    return s;
  };
}

/** A small seeded PRNG (mulberry32), so a random run can be repeated from its printed seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Espruino's substring() returns undefined when no JsVar is left: the next `n` substrings taken
 * of a chunk that starts with a PUBLISH (a received topic or payload; the harness's own strings
 * are not touched) return undefined. Returns the function that puts substring back.
 */
export function failNextPublishReads(n: number): () => void {
  const orig = String.prototype.substring;
  String.prototype.substring = function (this: string, a: number, b?: number) {
    if (n > 0 && this.charCodeAt(0) >> 4 == 3 && n--) return undefined as any;
    return orig.call(this, a, b);
  } as any;
  return () => void (String.prototype.substring = orig);
}
