// The client fuzzer: the real client over the simulated network (test/client/helpers.ts rig, this
// vitest project's socket mode; packets are 8-bit strings on both, so there is no buffer of the
// client's to instrument), each feed bounded in loop iterations. A far side of our own (sim.listen, raw conn.serverWrite)
// answers CONNECT, PUBLISH, SUBSCRIBE and PINGREQ like a broker, mostly; between its answers it
// writes fuzz inputs into the connection: gen.mjs cases, or streams of packets the client is
// waiting for (PUBACKs of the ids on the wire, SUBACKs, PUBLISHes to its subscription, PINGRESPs,
// CONNACKs), mutated, cut at random chunk boundaries (each connection its own chunk size).
// Meanwhile the app publishes QoS 2, 1 and 0 messages (retrying any refused with 107, outbox
// full), and a message handler sometimes throws. QoS 2 both ways: the far side answers PUBREC and
// PUBCOMP (mostly), and the fuzz forges PUBRECs, PUBCOMPs, PUBRELs and QoS 2 PUBLISHes. Time moves in random steps, sometimes past the
// keepalive.
// Then the fuzz stops: the connection is cut, the far side answers cleanly from then on, and
// within 5 minutes of virtual time every publish must have been called back exactly once, every
// QoS 1 and QoS 2 message successfully, the client connected with an empty outbox.
// Checked throughout: no exception escapes; no index outside the client's fixed buffers or a
// chunk; error codes are ones the client documents; the client never stays offline with no
// reconnect scheduled (except after CONNACK 1, where the app calls reconnect() as documented);
// every packet the client writes parses (mqtt-packet); no two unacknowledged outbox entries share
// a packet id when one goes on the wire.
import { rig, MODE } from "../client/helpers";
import { StreamDecoder } from "../sim/trace";
import type { SimConnection } from "../sim/network";
import type { Client } from "../../src/client";
import * as G from "./gen.mjs";
import { strict, hex } from "./strict";

/** Codes the app may see while garbage comes in (README's table). */
const ALLOWED = new Set([201, 202, 203, 204, 205, 206, 207, 208, 209, 210, 211, 212, 213, 214, 215, 301, 302, 303, 304, 305, 310, 311, 312, 313, 316, 317]);

export interface ClientRun {
  /** Fuzz inputs written into a connection. */
  cases: number;
  bytes: number;
  connections: number;
  published: number;
  /** Publishes refused with 107 and retried by the app. */
  full: number;
  received: number;
  errors: Record<number, number>;
}

export class ClientFuzzFailure extends Error {
  constructor(msg: string, readonly seed: number, readonly session: number, readonly last: string) {
    super(`${msg}\n  client session ${session} of seed ${seed}; replay: npm run fuzz -- --seed ${seed} --client-only ${session}\n  last input: ${last}`);
  }
}

interface Pub {
  n: number;
  qos: number;
  calls: number;
  ok: boolean;
}

/**
 * One client's life: `cases` fuzz inputs, then a clean far side until everything is delivered.
 * Deterministic for (seed, session): the client's jitter comes from the same PRNG.
 */
export function runClientSession(seed: number, session: number, cases: number): ClientRun {
  const r = G.rng(G.caseSeed(seed ^ 0x3c3c3c3c, session));
  const w = new Uint8Array(16384), f = G.frames(64);
  const { clock, sim, make } = rig();
  const run: ClientRun = { cases: 0, bytes: 0, connections: 0, published: 0, full: 0, received: 0, errors: {} };
  let last = "(none)";
  let clean = false;
  const problems: string[] = [];
  const problem = (m: string) => {
    if (problems.length < 5) problems.push(m);
  };

  // ---- the far side
  interface Far {
    conn: SimConnection;
    /** Ids of QoS 1 and 2 PUBLISHes the client wrote on this connection (acknowledged or not). */
    ids: number[];
    /** Ids of the PUBRELs the client wrote on this connection. */
    rels: number[];
    subs: { id: number; n: number }[];
  }
  let far: Far | null = null;
  sim.listen((conn) => {
    run.connections++;
    conn.chunkSize = clean ? 536 : G.chance(r, 0.3) ? G.between(r, 1, 8) : G.between(r, 9, 700);
    const me: Far = { conn, ids: [], rels: [], subs: [] };
    far = me;
    const dec = new StreamDecoder(
      (p: any) => fromClient(me, p),
      (e: Error) => problem(`the client wrote bytes mqtt-packet cannot parse: ${e.message}`)
    );
    conn.far.push({ data: (b) => dec.push(b) });
  });

  function send(conn: SimConnection, b: Uint8Array): void {
    conn.serverWrite(b);
  }

  function fromClient(me: Far, p: any): void {
    const conn = me.conn;
    switch (p.cmd) {
      case "connect":
        if (p.clientId != "fuzz" || p.clean !== false) problem(`CONNECT id=${p.clientId} clean=${p.clean}`);
        if (!clean && G.chance(r, 0.15)) inject(conn, true);
        else send(conn, Uint8Array.of(0x20, 2, G.below(r, 2), 0));
        break;
      case "publish":
        if (p.qos) {
          if (p.messageId < 1 || p.messageId > 65535) problem(`PUBLISH id ${p.messageId}`);
          // Not reused while in flight [MQTT-2.3.1-2]. A forged PUBACK the client accepted frees
          // an id as a genuine one does, so this asks the outbox rather than the wire's history.
          if (holding(p.messageId) > 1) problem(`PUBLISH id ${p.messageId} reused while in flight`);
          me.ids.push(p.messageId);
          if (clean || G.chance(r, 0.6)) send(conn, Uint8Array.of(p.qos == 2 ? 0x50 : 0x40, 2, p.messageId >> 8, p.messageId & 255));
        }
        break;
      case "pubrel": // of a QoS 2 PUBLISH it sent: PUBCOMP
        me.rels.push(p.messageId);
        if (clean || G.chance(r, 0.6)) send(conn, Uint8Array.of(0x70, 2, p.messageId >> 8, p.messageId & 255));
        break;
      case "subscribe":
        me.subs.push({ id: p.messageId, n: p.subscriptions.length });
        if (clean || G.chance(r, 0.6)) {
          const b = [0x90, 2 + p.subscriptions.length, p.messageId >> 8, p.messageId & 255];
          for (const s of p.subscriptions) b.push(s.qos);
          send(conn, Uint8Array.from(b));
        }
        break;
      case "unsubscribe":
        send(conn, Uint8Array.of(0xb0, 2, p.messageId >> 8, p.messageId & 255));
        break;
      case "pingreq":
        if (clean || G.chance(r, 0.8)) send(conn, Uint8Array.of(0xd0, 0));
        break;
      case "puback": // of a PUBLISH it received
      case "pubrec":
      case "pubcomp":
      case "disconnect":
        break;
      default:
        problem(`the client sent ${p.cmd}`);
    }
  }

  /** Writes one fuzz input into `conn`: a gen.mjs case, or packets the client waits for, mutated. */
  function inject(conn: SimConnection, connack: boolean): void {
    let n: number;
    if (!connack && G.chance(r, 0.4)) n = G.makeCase(r, w, f, 1500);
    else {
      n = relevant(connack);
      for (let m = G.below(r, 3); m > 0; m--) n = G.mutate(r, w, 0, n, f);
    }
    run.cases++;
    run.bytes += n;
    last = hex(w, 0, Math.min(n, 400)) + (n > 400 ? ` ... (${n} bytes)` : "");
    // In 1..3 writes: the socket re-chunks them at the connection's chunk size anyway.
    for (let s = 0; s < n; ) {
      const e = G.chance(r, 0.5) ? n : Math.min(n, s + G.chunkLen(r));
      send(conn, w.slice(s, e));
      s = e;
    }
  }

  /** A stream of packets the client is waiting for or handles, into w from 0; returns its end. */
  function relevant(connack: boolean): number {
    let o = 0;
    f.n = 0;
    const me = far!;
    const put = (...b: number[]) => {
      f.at[f.n++] = o;
      for (const x of b) w[o++] = x;
    };
    if (connack) put(0x20, 2, G.below(r, 2), G.chance(r, 0.7) ? 0 : G.between(r, 1, 5));
    for (let k = G.between(r, 1, 6); k > 0 && f.n < 60; k--) {
      const x = G.below(r, 10);
      if (x < 3 && me.ids.length) {
        // PUBACK, PUBREC or PUBCOMP of an id on the wire, right for its QoS and step or not.
        const id = me.rels.length && G.chance(r, 0.3) ? me.rels[G.below(r, me.rels.length)] : me.ids[G.below(r, me.ids.length)];
        put([0x40, 0x50, 0x70][G.below(r, 3)], 2, id >> 8, id & 255);
      } else if (x < 3 && G.chance(r, 0.5)) {
        const id = G.between(r, 1, 65535);
        put(0x62, 2, id >> 8, id & 255); // a PUBREL, for an id held or not
      } else if (x < 4 && me.subs.length) {
        const s = me.subs[G.below(r, me.subs.length)], n = G.chance(r, 0.8) ? s.n : G.between(r, 1, 4);
        const b = [0x90, 2 + n, s.id >> 8, s.id & 255];
        for (let i = 0; i < n; i++) b.push(G.chance(r, 0.9) ? 1 : 0x80);
        put(...b);
      } else if (x < 7) {
        // PUBLISH to the subscription "f/#", QoS 0, 1 or 2 (ids from a few, so that duplicates
        // come), sometimes larger than the receive buffer.
        const q = G.below(r, 3), id = q == 2 && G.chance(r, 0.5) ? G.between(r, 1, 8) : G.between(r, 1, 65535);
        const pl = G.chance(r, 0.9) ? G.below(r, 40) : G.between(r, 400, 1200);
        const len = 2 + 3 + (q ? 2 : 0) + pl;
        f.at[f.n++] = o;
        w[o++] = 0x30 | (q << 1);
        o = G.putLen(w, o, len);
        w[o++] = 0;
        w[o++] = 3;
        w[o++] = 0x66; // "f/x"
        w[o++] = 0x2f;
        w[o++] = 0x61 + G.below(r, 26);
        if (q) {
          w[o++] = id >> 8;
          w[o++] = id & 255;
        }
        for (let i = 0; i < pl; i++) w[o++] = 0x20 + G.below(r, 90);
      } else if (x < 9) put(0xd0, 0);
      else put(0x20, 2, 0, 0); // a second CONNACK
    }
    f.at[f.n] = o;
    return o;
  }

  // ---- the client, instrumented
  const c: Client = make(
    { clientId: "fuzz", clean: false, keepalive: 5, reconnectPeriod: 50, reconnectMax: 1000, connectTimeout: 2000 },
    G.chance(r, 0.5) ? { rxSize: 64, queueSize: 4, inflight: 2, outboxSize: 256 } : {}
  );
  const cc: any = c;
  (cc._plat as any)._rand = () => G.below(r, 1000000) / 1000000;
  // (Packets are 8-bit strings, the outbox holds entries: no buffer to index outside.)
  // Every packet is 2 bytes at least, and the rest of a chunk after one the client could not
  // follow is not read: a chunk of n bytes yields at most n / 2 packets (more: a loop that does
  // not consume its input).
  let reads = 0, budget = 1e9;
  const packet = cc._packet;
  cc._packet = function () {
    if (++reads > budget) throw new Error("the client reads more packets than its input holds");
    return packet.call(this);
  };
  // _io is, on Espruino, the socket's own listener (called with the socket as `this` and one
  // argument, a string for data); on Node the adapter calls it with (socket, Io, value, errno).
  const io = cc._io;
  cc._io = function (this: any, s: any, ev: number, ch: any, errno: any) {
    const esp = MODE == "espruino";
    if (esp ? typeof s != "string" : ev != 1) return io.call(this, s, ev, ch, errno); // not data
    if (esp) ch = s;
    reads = 0;
    budget = (ch.length + (cc._a || "").length) / 2;
    try {
      return esp ? io.call(this, ch) : io.call(this, s, ev, typeof ch == "string" ? ch : strict(ch));
    } finally {
      budget = 1e9;
    }
  };
  let lastErr = 0;
  c.on("error", (e: any) => {
    lastErr = e.code;
    run.errors[e.code] = (run.errors[e.code] || 0) + 1;
    if (!ALLOWED.has(e.code)) problem(`error ${e.code}`);
    if (e.code == 301) clock.setTimeout(() => c.reconnect(), 500); // as README says to
  });
  c.on("message", () => run.received++);
  c.subscribe("f/#", {
    qos: 2,
    handler: () => {
      if (G.chance(r, 0.05)) throw new Error("a handler that throws");
    },
  });

  const pubs: Pub[] = [];
  const retry: Pub[] = [];
  function publish(p: Pub): void {
    c.publish("p/" + p.n, "m" + p.n, { qos: p.qos }, (err: any) => {
      p.calls++;
      if (err && err.code == 107) {
        run.full++;
        p.calls--;
        retry.push(p);
      } else if (err) problem(`publish ${p.n} failed with ${err.code}`);
      else {
        if (p.ok) problem(`publish ${p.n} called back twice`);
        p.ok = true;
      }
    });
  }
  /** Outbox entries not yet acknowledged that hold packet id `id`. */
  function holding(id: number): number {
    let n = 0;
    // Entries from _qh: _h first byte (QoS bits 6), _s state (2 = done), _i packet id.
    for (let k = (cc._qh || 0); k < cc._q.length; k++) {
      const e = cc._q[k];
      if (e._h & 6 && !(e._s & 2) && e._i == id) n++;
    }
    return n;
  }

  const queue = (qos: number) => {
    const p = { n: pubs.length, qos, calls: 0, ok: false };
    pubs.push(p);
    run.published++;
    publish(p);
  };

  function step(): void {
    const k = G.below(r, 20);
    if (k < 6) queue(G.chance(r, 0.8) ? 1 + G.below(r, 2) : 0);
    if (retry.length && G.chance(r, 0.5)) publish(retry.shift()!);
    const cur = sim.current;
    if (!clean && cur && cur.state == "open" && G.chance(r, 0.7)) inject(cur, false);
    const t = G.below(r, 10);
    clock.advance(t < 6 ? G.below(r, 50) : t < 9 ? G.below(r, 800) : G.between(r, 3000, 9000));
    if (cc._state == 0 && !cc._due && lastErr != 301) problem("offline with no reconnect scheduled");
  }

  const fail = (m: string) => new ClientFuzzFailure(m, seed, session, last);
  try {
    // QoS 1 messages queued before the first connection, and sent on it before any fuzz.
    queue(1);
    queue(1);
    clock.flush();
    queue(1);
    for (let i = 0; i < cases; i++) {
      step();
      if (problems.length) throw new Error(problems.join("; "));
    }
    // The fuzz stops: a clean far side from the next connection on.
    clean = true;
    sim.current?.cut();
    const end = clock.elapsed() + 300000;
    for (;;) {
      // The app tries again what was refused for a full outbox (once per round: a refusal comes
      // back at once, into the same list).
      for (let k = retry.length; k > 0; k--) publish(retry.shift()!);
      if (c.connected && !cc._on && pubs.every((p) => p.ok)) break;
      if (clock.elapsed() > end) break;
      if (cc._state == 0 && !cc._due) c.reconnect();
      clock.advance(100);
      if (problems.length) throw new Error(problems.join("; "));
    }
    const lost = pubs.filter((p) => !p.ok);
    if (lost.length) throw new Error(`${lost.length} publishes never succeeded (first: #${lost[0].n} qos ${lost[0].qos}, ${lost[0].calls} calls)`);
    if (!c.connected || cc._on) throw new Error(`not connected with an empty outbox: connected=${c.connected} outbox=${cc._on}`);
    if (sim.violations.length) throw new Error(`socket misuse: ${sim.violations[0]}`);
    if (problems.length) throw new Error(problems.join("; "));
    c.end(true);
    clock.flush();
    return run;
  } catch (x: any) {
    if (x instanceof ClientFuzzFailure) throw x;
    throw fail(x && x.stack ? x.stack : String(x));
  }
}

/** The socket mode this run uses (the vitest project's). */
export const CLIENT_MODE = MODE;
