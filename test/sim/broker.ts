// Far sides for the simulated network.
//  - startAedes(sim): an in-process aedes 1.x broker behind sim; stop()/start()/restart() rebuild it
//    on the same persistence, so persistent sessions and queued QoS 1 messages survive a restart.
//    aedes runs on the real event loop: drive tests with `await sim.run(ms)` / `sim.until(...)`.
//  - ScriptedBroker: a byte-exact far side for synchronous tests. It records every byte the client
//    wrote, parses packets, and sends whatever bytes the test gives it.

import { Aedes, type AedesOptions } from "aedes";
import memoryPersistence from "aedes-persistence";
import mqtt from "mqtt-packet";
import type { SimConnection, SimNetwork } from "./network";
import { toBytes } from "./network";
import { StreamDecoder, formatPacket } from "./trace";

export interface AedesHarness {
  /** The running broker instance (a new object after each start()). */
  readonly broker: Aedes;
  /** The persistence shared by every instance. */
  readonly persistence: any;
  readonly running: boolean;
  /** Closes the broker: its connections are closed (clients see a remote close), new ones refused. */
  stop(): Promise<void>;
  /** A fresh aedes instance on the same persistence starts accepting connections. */
  start(): Promise<void>;
  restart(): Promise<void>;
}

/**
 * An aedes `preConnect` hook that makes the broker's packet ids continue per client id across
 * connections. aedes 1.2.0 starts each connection's ids at a random number, also in a resumed
 * session whose unacknowledged messages keep the ids they were sent with; a new message can then
 * take an id still in use [MQTT-2.3.1-2], and its PUBACK (aedes clears by id alone) deletes the
 * older stored message, which is never sent again: lost by the broker, not by the client. Tests
 * that drop a persistent subscriber's link use this so they measure the client.
 */
export function continuingIds() {
  const nextIds: Record<string, number> = {};
  return (client: any, packet: any, done: (e: any, ok: boolean) => void) => {
    const id = packet.clientId;
    nextIds[id] = nextIds[id] || 1;
    Object.defineProperty(client, "_nextId", { get: () => nextIds[id], set: (v) => (nextIds[id] = v), configurable: true });
    done(null, true);
  };
}

export async function startAedes(
  sim: SimNetwork,
  opts: Partial<AedesOptions> & { persistence?: any } = {},
): Promise<AedesHarness> {
  const persistence = opts.persistence ?? memoryPersistence();
  let broker: Aedes | undefined;
  const h: AedesHarness = {
    get broker() {
      if (!broker) throw new Error("startAedes: broker is stopped");
      return broker;
    },
    persistence,
    get running() { return !!broker; },
    async stop() {
      if (!broker) return;
      const b = broker;
      broker = undefined;
      sim.onConnection(null);
      await new Promise<void>((resolve) => b.close(() => resolve()));
    },
    async start() {
      if (broker) return;
      const b = await Aedes.createBroker({ ...opts, persistence } as AedesOptions);
      broker = b;
      sim.onConnection((duplex) => b.handle(duplex as any));
    },
    async restart() {
      await h.stop();
      await h.start();
    },
  };
  await h.start();
  return h;
}

export type Packet = mqtt.Packet & Record<string, any>;

/**
 * A far side driven by the test, synchronous on the sim's clock.
 *   const b = new ScriptedBroker(sim);
 *   client.connect(); const c = b.expectPacket("connect"); b.connack(0);
 *   b.send("30 05 00 01 61 68 69"); b.send({ cmd: "puback", messageId: 1 });
 */
export class ScriptedBroker {
  /** Connections that reached this broker, in order. */
  readonly connections: SimConnection[] = [];
  /** Every packet the client sent, all connections, in order. */
  readonly packets: Packet[] = [];
  /** Parse errors of the client's byte stream. */
  readonly errors: Error[] = [];
  private queue: Packet[] = [];
  private bytesByConn = new Map<SimConnection, Uint8Array[]>();

  /** autoClose: answer the client's FIN with ours, as a real server does (default true). */
  constructor(private sim: SimNetwork, private opts: { autoClose?: boolean } = {}) {
    sim.listen((conn) => this.attach(conn));
  }

  /** The latest connection. */
  get conn(): SimConnection {
    const c = this.connections[this.connections.length - 1];
    if (!c) throw new Error("ScriptedBroker: no connection yet");
    return c;
  }

  /** Raw bytes the client wrote on a connection (default: the latest). */
  bytes(conn: SimConnection = this.conn): Uint8Array {
    const chunks = this.bytesByConn.get(conn) ?? [];
    return Uint8Array.from(Buffer.concat(chunks.map((c) => Buffer.from(c))));
  }

  /** The next packet not yet taken, or undefined. Does not move the clock. */
  nextPacket(): Packet | undefined {
    return this.queue.shift();
  }

  /**
   * Advances the clock (timer to timer) until the client's next packet arrives, at most maxMs.
   * Throws if none comes, or if it is not a `cmd` packet.
   */
  expectPacket(cmd?: string, maxMs = 60000): Packet {
    const clock = this.sim.clock;
    const end = clock.elapsed() + maxMs;
    clock.flush();
    while (!this.queue.length) {
      const left = end - clock.elapsed();
      if (left <= 0 || !clock.step(left)) {
        throw new Error(`ScriptedBroker: expected ${cmd ? cmd.toUpperCase() : "a packet"} within ${maxMs} ms; ` +
          `got none${clock.pending() ? "" : " (nothing scheduled on the clock)"}`);
      }
    }
    const p = this.queue.shift()!;
    if (cmd && p.cmd !== cmd) {
      throw new Error(`ScriptedBroker: expected ${cmd.toUpperCase()}, got: ${formatPacket(p, "→")}`);
    }
    return p;
  }

  /** Advances ms and throws if the client sent any packet meanwhile. */
  expectNoPacket(ms: number): void {
    this.sim.clock.advance(ms);
    const p = this.queue.shift();
    if (p) throw new Error(`ScriptedBroker: expected silence for ${ms} ms, got: ${formatPacket(p, "→")}`);
  }

  /** Advances the clock until a new connection is established (at most maxMs); returns it. */
  expectConnection(maxMs = 60000): SimConnection {
    const clock = this.sim.clock;
    const n = this.connections.length;
    const end = clock.elapsed() + maxMs;
    clock.flush();
    while (this.connections.length === n) {
      const left = end - clock.elapsed();
      if (left <= 0 || !clock.step(left)) throw new Error(`ScriptedBroker: no new connection within ${maxMs} ms`);
    }
    return this.conn;
  }

  /** Sends bytes (Uint8Array, number[], hex text) or a packet object (mqtt-packet's generate). */
  send(data: Uint8Array | number[] | string | Record<string, any>, conn: SimConnection = this.conn): void {
    const b = typeof data === "string" || data instanceof Uint8Array || Array.isArray(data)
      ? toBytes(data as any)
      : new Uint8Array(mqtt.generate(data as any));
    conn.serverWrite(b);
  }

  connack(returnCode = 0, sessionPresent = false): void {
    this.send({ cmd: "connack", returnCode, sessionPresent });
  }

  /** Closes the broker's side (FIN) after what was sent. */
  end(conn: SimConnection = this.conn): void {
    conn.serverEnd();
  }

  private attach(conn: SimConnection): void {
    this.connections.push(conn);
    const chunks: Uint8Array[] = [];
    this.bytesByConn.set(conn, chunks);
    const dec = new StreamDecoder(
      (p) => { this.packets.push(p); this.queue.push(p); },
      (e) => { this.errors.push(e); },
    );
    conn.far.push({
      data: (b) => { chunks.push(b); dec.push(b); },
      end: () => { if (this.opts.autoClose !== false) conn.serverEnd(); },
    });
  }
}
