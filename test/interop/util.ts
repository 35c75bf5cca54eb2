// Shared by the interop tests: the built node bundle, free loopback ports, a TCP proxy whose
// links can be cut, an embedded aedes broker that can be restarted on its port and its store,
// and small waiting helpers.
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { ensureBuilt } from "../bundle/built";

export const require_ = createRequire(import.meta.url);
export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * The built node bundle (dist/node/<file>), built first if it is missing. Other test files build
 * too (test/bundle/built.ts, under a lock directory so that parallel workers do not build at
 * once): a missing bundle is built through that, and a bundle present while a build holds the
 * lock is read only after it (it may be half written). A present bundle is not rebuilt.
 */
export function loadBundle(file = "mqttiny.js"): any {
  const p = path.join(root, "dist", "node", file);
  if (!fs.existsSync(p) || fs.existsSync(path.join(root, "dist", ".build-lock"))) ensureBuilt();
  return require_(p);
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once 127.0.0.1:port accepts a TCP connection (polling), or rejects after `ms`. */
export async function waitPort(port: number, ms = 10000, alive?: () => string | null): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: "127.0.0.1", port });
      s.on("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    const dead = alive && alive();
    if (dead) throw new Error(dead);
    if (Date.now() > until) throw new Error("port " + port + " never accepted a connection");
    await sleep(20);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `cond` every 10 ms until true; rejects with `what` after `ms`. */
export async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out waiting for " + what);
    await sleep(10);
  }
}

/** A TCP proxy on 127.0.0.1 to `target()`'s port; cut() destroys every link it carries now. */
export interface Proxy {
  port: number;
  links: number;
  cut(): void;
  /** Holds (true) or lets through (false) what the broker sends on the links open now. */
  hold(on: boolean): void;
  close(): Promise<void>;
}

export async function proxy(target: () => number, port = 0): Promise<Proxy> {
  const pairs = new Set<[net.Socket, net.Socket]>();
  const server = net.createServer((a) => {
    const b = net.connect({ host: "127.0.0.1", port: target() });
    const pair: [net.Socket, net.Socket] = [a, b];
    pairs.add(pair);
    p.links++;
    const end = () => {
      pairs.delete(pair);
      a.destroy();
      b.destroy();
    };
    a.on("error", end).on("close", end);
    b.on("error", end).on("close", end);
    a.pipe(b);
    b.pipe(a);
  });
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  const p: Proxy = {
    port: (server.address() as net.AddressInfo).port,
    links: 0,
    cut() {
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      pairs.clear();
    },
    hold(on) {
      for (const [a, b] of pairs)
        if (on) {
          b.unpipe(a);
          b.pause();
        } else b.pipe(a);
    },
    close() {
      p.cut();
      return new Promise((r) => server.close(() => r()));
    },
  };
  return p;
}

/**
 * An aedes broker on 127.0.0.1:port (plain TCP, or TLS with `tls` options), over an in-memory
 * `aedes-persistence` store that outlives the broker: stop() then start() is a restart that keeps
 * sessions, subscriptions, queued messages and retained messages.
 */
export interface AedesBroker {
  port: number;
  broker: any;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function aedesBroker(opts: { port?: number; tls?: any } = {}): Promise<AedesBroker> {
  const { Aedes } = await import("aedes");
  const memory = require_("aedes-persistence");
  const persistence = memory();
  const tls = require_("node:tls");
  const port = opts.port || (await freePort());
  let server: net.Server | null = null;
  const sockets = new Set<net.Socket>();
  const b: AedesBroker = {
    port,
    broker: null,
    async start() {
      const broker = await (Aedes as any).createBroker({ persistence });
      broker.on("error", () => {});
      b.broker = broker;
      const handle = (s: net.Socket) => {
        sockets.add(s);
        s.on("close", () => sockets.delete(s));
        s.on("error", () => {});
        broker.handle(s);
      };
      server = opts.tls ? tls.createServer(opts.tls, handle) : net.createServer(handle);
      server!.on("tlsClientError", () => {});
      await new Promise<void>((r, j) => {
        server!.once("error", j);
        server!.listen(port, "127.0.0.1", () => r());
      });
    },
    async stop() {
      const s = server, broker = b.broker;
      server = null;
      b.broker = null;
      if (s) {
        const closed = new Promise<void>((r) => s.close(() => r()));
        for (const k of sockets) k.destroy();
        await closed;
      }
      if (broker) await new Promise<void>((r) => broker.close(() => r()));
    },
  };
  await b.start();
  return b;
}

/** Bytes 0..255 once each. */
export const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

/** The remaining-length field size for `n`. */
export function lengthBytes(n: number): number {
  return n < 128 ? 1 : n < 16384 ? 2 : n < 2097152 ? 3 : 4;
}

/**
 * The largest QoS `q` payload for `topic` whose whole PUBLISH packet fits an outbox of `total`
 * bytes (the packet and its entry's state byte).
 */
export function maxPayloadForPacket(topic: string, q: number, total: number): number {
  const head = 2 + Buffer.byteLength(topic) + (q ? 2 : 0);
  for (let pl = total; pl >= 0; pl--) {
    const rem = head + pl;
    if (1 + 1 + lengthBytes(rem) + rem <= total) return pl;
  }
  return 0;
}

/** The largest QoS `q` payload for `topic` whose PUBLISH body (remaining length) is at most `body`. */
export function maxPayloadForBody(topic: string, q: number, body: number): number {
  return body - 2 - Buffer.byteLength(topic) - (q ? 2 : 0);
}

/** A payload of `n` bytes, not all alike, so a shifted or truncated copy shows. */
export function pattern(n: number, seed = 7): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed + (i >> 8)) & 255;
  return b;
}

/** MQTT topic filter matching (3.1.1 section 4.7), written independently of src/codec/topic.ts. */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split("/"), t = topic.split("/");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === "#") return true;
    if (i >= t.length) return false;
    if (f[i] !== "+" && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}
