// The pieces (dist/<target>/mqttiny-<piece>.min.js) loaded on the core of their target the way a
// board loads modules (test/bundle/espruino-vm.ts): each patches the core's prototype exactly as
// its readable bundle does (so the mangled names of core and piece agree: a wrapper of a method
// whose name differed would add a new property instead of replacing the method), and each does
// what it is for, alone and with every other piece loaded (their own new internals do not collide).
import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { listPieces, listTargets, targetFeatures } from "../../build/targets.mjs";
import { dist, ensureBuilt, root } from "./built";
import { espruinoVm, EspruinoVm, FakeSocket } from "./espruino-vm";

const boards: string[] = listTargets(path.join(root, "targets")).filter((t: string) => targetFeatures(root, t).ESPRUINO);
const pieces: string[] = listPieces(path.join(root, "src", "pieces"));
/** The public names a piece adds to the prototype. */
const PUBLIC: Record<string, string[]> = { events: ["off", "once", "removeAllListeners", "removeListener"], session: ["saveSession"], subs: ["unsubscribe"] };

beforeAll(() => ensureBuilt(), 180_000);

const read = (t: string, f: string) => fs.readFileSync(path.join(dist, t, f), "utf8");

/** A board with the core of `t` (Web IDE style) and `load` pieces (Storage style); min or readable. */
function boot(t: string, load: string[], min = true) {
  const ext = min ? ".min.js" : ".js";
  const vm = espruinoVm();
  vm.addModule("mqttiny", read(t, "mqttiny" + ext), "function");
  for (const p of load) vm.addModule("mqttiny-" + p, read(t, `mqttiny-${p}${ext}`), "string");
  const m = vm.require("mqttiny");
  const P = m.Client.prototype, before = new Map(Object.keys(P).map((k) => [k, P[k]]));
  for (const p of load) expect(Object.keys(vm.require("mqttiny-" + p)), `mqttiny-${p} exports`).toEqual([]);
  const after = Object.keys(P);
  return {
    vm,
    m,
    added: after.filter((k) => !before.has(k)).sort(),
    replaced: after.filter((k) => before.has(k) && before.get(k) !== P[k]).length,
  };
}

/** The packets in bytes a client sent: [type, body]. */
function packets(bytes: number[]): [number, number[]][] {
  const out: [number, number[]][] = [];
  for (let i = 0; i < bytes.length; ) {
    const type = bytes[i] >> 4;
    let len = 0, mul = 1, j = i + 1;
    do {
      len += (bytes[j] & 127) * mul;
      mul *= 128;
    } while (bytes[j++] & 128);
    out.push([type, bytes.slice(j, j + len)]);
    i = j + len;
  }
  return out;
}
const chars = (s: string) => [...s].map((c) => c.charCodeAt(0));
const publish = (topic: string, payload: string) => [0x30, 2 + topic.length + payload.length, 0, topic.length, ...chars(topic), ...chars(payload)];

/** A client of the board's connect(), connected to the fake broker. */
function connected(b: { vm: EspruinoVm; m: any }, opts: any = {}) {
  const c = b.m.connect("mqtt://broker.local", { clientId: "piece-test", keepalive: 0, ...opts });
  const seen: string[] = [];
  c.on("error", (e: any) => seen.push("error " + e.code));
  c.on("message", (t: string, p: string) => seen.push(`message ${t} ${p}`));
  b.vm.tick(0);
  const s: FakeSocket = b.vm.sockets[b.vm.sockets.length - 1];
  expect(s, "the client opened a socket").toBeDefined();
  s.open();
  expect(packets(s.sent).map((p) => p[0]), "CONNECT").toEqual([1]);
  s.data([0x20, 2, 0, 0]);
  expect(c.connected).toBe(true);
  /** Subscribes to `filter` (acknowledged at once), with `opts`. */
  const subscribe = (filter: string, o: any) => {
    const n = s.sent.length;
    c.subscribe(filter, o);
    const [type, body] = packets(s.sent.slice(n))[0];
    expect(type).toBe(8);
    s.data([0x90, 3, body[0], body[1], 0]);
  };
  return { c, s, seen, subscribe };
}

/**
 * The broker closes the link of client `c`, which connects again (a new session): the packets it
 * sends after CONNECT, as types.
 */
function reconnected(b: { vm: EspruinoVm }, c: any): number[] {
  b.vm.sockets[b.vm.sockets.length - 1].close();
  expect(c.connected).toBe(false);
  b.vm.tick(1500);
  const s: FakeSocket = b.vm.sockets[b.vm.sockets.length - 1];
  s.open();
  s.data([0x20, 2, 0, 0]);
  expect(c.connected).toBe(true);
  return packets(s.sent).map((p) => p[0]).slice(1);
}

describe.each(boards)("%s", (t) => {
  const qos1 = targetFeatures(root, t).QOS1;

  describe.each(pieces)("mqttiny-%s", (p) => {
    it("patches the prototype of the minified core as the readable piece patches the readable core", () => {
      const want = boot(t, [p], false), got = boot(t, [p]);
      expect(want.added.length + want.replaced, "the readable piece changes nothing").toBeGreaterThan(0);
      expect(want.added.filter((k) => k[0] !== "_")).toEqual(PUBLIC[p] ?? []);
      expect(got.added.filter((k) => !want.added.includes(k)), "new internal properties").toHaveLength(
        want.added.filter((k) => k[0] === "_").length);
      expect(got.added.filter((k) => want.added.includes(k))).toEqual(PUBLIC[p] ?? []);
      expect(got.replaced, "methods of the core replaced").toBe(want.replaced);
    });
  });

  it("the core alone: no handler, no stats, no once, end() does not wait", () => {
    const b = boot(t, []), { c, s, seen, subscribe } = connected(b);
    let calls = 0;
    subscribe("a/+", { handler: () => calls++ });
    s.data(publish("a/b", "hi"));
    expect(seen).toEqual(["message a/b hi"]);
    expect(calls).toBe(0);
    expect(c.stats).toBeUndefined();
    expect(c.once).toBeUndefined();
    expect(c.unsubscribe).toBeUndefined();
    // Several listeners of one event (the core keeps a lone one as itself, then an array): each
    // called, in order, one that throws reported (317) without stopping the next.
    const order: string[] = [];
    c.on("close", () => order.push("close 1"));
    c.on("close", () => { throw new Error("listener"); });
    c.on("close", () => order.push("close 3"));
    expect(() => b.m.connect({ clientId: "bad\u0000id" })).not.toThrow();
    expect(reconnected(b, c), "no SUBSCRIBE made again after a reconnect in a new session").toEqual([]);
    expect(order).toEqual(["close 1", "close 3"]);
    expect(seen).toContain("error 317");
    if (qos1) {
      const s: FakeSocket = b.vm.sockets.at(-1)!;
      const n = s.sent.length;
      c.publish("q/1", "v", { qos: 1 });
      b.vm.tick(1000);
      c.end();
      b.vm.tick(1000);
      expect(packets(s.sent.slice(n)).map((x) => x[0]), "end() sends DISCONNECT at once").toEqual([3, 14]);
    }
  });

  const scenario = (load: string[]) => () => {
    const b = boot(t, load), has = (p: string) => load.includes(p);
    if (has("check")) expect(() => b.m.connect({ clientId: "bad\u0000id" })).toThrow(expect.objectContaining({ code: 105 }));
    const { c, s, seen, subscribe } = connected(b);
    const calls: string[] = [], once: string[] = [];
    subscribe("a/+", { handler: (topic: string, payload: string) => calls.push(`${topic} ${payload}`) });
    if (has("events")) c.once("message", (topic: string) => once.push(topic));
    // A lone listener (kept as itself by the core), removed by once() after its first call.
    const connects: number[] = [];
    if (has("events")) c.once("connect", () => connects.push(1));
    s.data(publish("a/b", "1"));
    s.data(publish("a/c", "2"));
    s.data(publish("x/y", "3"));
    expect(seen).toEqual(["message a/b 1", "message a/c 2", "message x/y 3"]);
    expect(calls).toEqual(has("handlers") ? ["a/b 1", "a/c 2"] : []);
    if (has("events")) {
      expect(once).toEqual(["a/b"]);
      const fn = () => seen.push("removed listener ran");
      c.on("message", fn).removeListener("message", fn);
      c.removeAllListeners("error");
      s.data(publish("x/y", "4"));
      expect(seen.at(-1)).toBe("message x/y 4");
    }
    if (has("stats")) expect(c.stats).toMatchObject({ received: has("events") ? 4 : 3, sent: 0, errors: 0 });
    if (has("subs")) {
      subscribe("b/c", {});
      c.unsubscribe("b/c");
      expect(packets(s.sent).at(-1)?.[0], "UNSUBSCRIBE").toBe(10);
      s.data([0xb0, 2, ...packets(s.sent).at(-1)![1].slice(0, 2)]);
      expect(reconnected(b, c), "the subscription made again in the new session").toEqual([8]);
      if (has("events")) {
        expect(reconnected(b, c).length).toBe(1);
        expect(connects, "once('connect') fired once over two connections").toEqual([1]);
      }
      expect(packets(b.vm.sockets.at(-1)!.sent).at(-1)![1].slice(2), "SUBSCRIBE a/+ at QoS 0").toEqual([0, 3, ...chars("a/+"), 0]);
    }
    if (qos1 && has("drain")) {
      const cur: FakeSocket = b.vm.sockets.at(-1)!;
      const n = cur.sent.length;
      c.publish("q/1", "v", { qos: 1 });
      b.vm.tick(1000);
      const [type, body] = packets(cur.sent.slice(n))[0] ?? [];
      expect(type).toBe(3);
      c.end();
      b.vm.tick(3000);
      expect(packets(cur.sent.slice(n)).map((x) => x[0]), "end() waits for the PUBACK").toEqual([3]);
      const id = body.slice(2 + body[1], 4 + body[1]);
      cur.data([0x40, 2, ...id]);
      b.vm.tick(3000);
      expect(packets(cur.sent.slice(n)).map((x) => x[0]), "then sends DISCONNECT").toEqual([3, 14]);
      if (has("stats")) expect(c.stats).toMatchObject({ sent: 1, acked: 1 });
    }
  };
  it.each(pieces)("mqttiny-%s alone does what it is for", (p) => scenario([p])());
  it("every piece loaded together: each does what it is for", () => scenario(pieces)());
});
