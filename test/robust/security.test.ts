// Security: credentials never leak into what the app or a log sees; TLS verifies the server unless
// the app says otherwise; a broker cannot make the client allocate beyond its fixed buffers; a
// topic from the network reaches no handler before its UTF-8 is validated.
import { describe, it, expect } from "vitest";
import { EventEmitter } from "node:events";
import v8 from "node:v8";
import vm from "node:vm";
import { rig, MODE, DEFAULTS } from "../client/helpers";
import { ScriptedBroker } from "../sim/broker";
import { Client, options } from "../../src/full";

import { nodePlatform } from "../../src/platform/node";
import { espruinoPlatform } from "../../src/platform/espruino";

const ESP = MODE == "espruino";
const USER = "alice-U53R-7f3a";
const PASS = "hunter2-PA55-9c1e";

/** Every form a secret could take in text: as is, hex, base64, and the bytes' decimal list. */
function forms(s: string): string[] {
  const b = Buffer.from(s);
  return [s, b.toString("hex"), b.toString("base64"), Array.from(b).join(","), s.slice(4, 12)];
}

function leaks(text: string): string[] {
  return [...forms(USER), ...forms(PASS)].filter((f) => text.includes(f));
}

/** Everything an error object can show: message, stack, errno, own fields, JSON, String. */
function show(x: any): string {
  let out = "";
  const add = (v: any) => {
    try {
      out += "\n" + (typeof v == "string" ? v : JSON.stringify(v));
    } catch {
      out += "\n" + String(v);
    }
  };
  add(String(x));
  add(x);
  if (x && typeof x == "object") {
    add(x.message);
    add(x.stack);
    add(x.errno);
    add(String(x.errno));
    if (x.errno && typeof x.errno == "object") add(x.errno.message);
    for (const k of Object.getOwnPropertyNames(x)) add(x[k]);
  }
  return out;
}

describe("credentials never leak", () => {
  for (const pw of ["string", "Uint8Array"])
    it(`into errors, event payloads or traces (password as a ${pw}), through refusals, timeouts, socket and protocol errors`, () => {
      const trace: string[] = [];
      const { sim, clock, make } = rig({ trace: (l: string) => trace.push(l) });
      const broker = new ScriptedBroker(sim);
      const c = make({
        username: USER,
        password: pw == "string" ? PASS : new Uint8Array(Buffer.from(PASS)),
        reconnectPeriod: 100,
        reconnectMax: 500,
        connectTimeout: 2000,
        keepalive: 2,
      });
      const seen: string[] = [];
      const codes: number[] = [];
      c.on("error", (e: any) => {
        codes.push(e.code);
        seen.push(show(e));
      });
      for (const ev of ["connect", "close", "offline", "reconnect", "end", "message"])
        c.on(ev, (...a: any[]) => seen.push(ev + " " + show(a)));
      const connack = (rc: number) => {
        const p = broker.expectPacket("connect", 5000);
        expect([p.username, String(p.password)]).toEqual([USER, PASS]); // the broker does get them
        broker.connack(rc);
        clock.flush();
      };
      const until = (what: string, pred: () => boolean) => {
        for (let i = 0; i < 600 && !pred(); i++) clock.advance(100);
        if (!pred()) throw new Error(`not seen: ${what}; codes ${codes}`);
      };
      const count = (code: number) => codes.filter((x) => x == code).length;
      connack(4); // bad user name or password: 304
      connack(5); // not authorized: 305
      broker.expectPacket("connect", 5000); // no CONNACK: 310
      until("310", () => count(310) > 0);
      sim.refuseNext(1, "dns");
      sim.refuseNext(1, "throw");
      sim.refuseNext(1, "event");
      until("three refusals", () => count(312) >= 3);
      while (broker.nextPacket()); // CONNECTs of attempts already given up
      connack(0);
      broker.send("30 04 00 02 c3 28"); // ill-formed topic: 205
      clock.flush();
      connack(0);
      sim.throwOnWrite(1);
      c.publish("t", "x", { qos: 1 }); // 312 (Node) / 315 (Espruino)
      clock.flush();
      connack(0);
      const pub = broker.expectPacket("publish");
      broker.send({ cmd: "puback", messageId: pub.messageId });
      clock.flush();
      sim.halfOpen();
      until("311", () => count(311) > 0);
      connack(0);
      sim.cut(); // 312
      clock.flush();
      connack(0);
      c.subscribe("s", { handler: () => { throw new Error("handler"); } }); // 317
      const sub = broker.expectPacket("subscribe");
      broker.send([0x90, 3, sub.messageId >> 8, sub.messageId & 255, 0]);
      broker.send("30 04 00 01 73 78");
      clock.flush();
      c.end();
      clock.advance(1000);
      for (const code of [304, 305, 310, 312, 205, ESP ? 315 : 312, 311, 317]) expect(codes).toContain(code);
      expect(leaks(seen.join("\n"))).toEqual([]);
      expect(trace.some((l) => /CONNECT .*user=\*\*\* pass=\*\*\*/.test(l))).toBe(true);
      expect(leaks(trace.join("\n"))).toEqual([]);
      // The check itself finds a secret where there is one.
      expect(leaks(show(Object.assign(new Error("x"), { errno: Buffer.from(PASS) })))).not.toEqual([]);
    });

  it("into the errors connect() throws for bad options", () => {
    const bad = [
      { username: USER, password: 42, clientId: "x" },
      { username: USER + "\u0000", password: PASS, clientId: "x" },
      { username: USER, password: PASS, clientId: "x", will: { topic: "a/#", payload: PASS } },
    ];
    for (const o of bad) {
      let e: any;
      try {
        rig().make(o);
      } catch (x) {
        e = x;
      }
      expect(e && e.code).toBeGreaterThan(100);
      expect(leaks(show(e))).toEqual([]);
    }
  });
});

// ---- TLS: the Node adapter over a fake tls module that records what it is given

function fakeTls() {
  const calls: any[] = [];
  const mod = {
    connect(o: any) {
      calls.push({ ...o });
      const s: any = new EventEmitter();
      s.write = () => true;
      s.destroy = s.end = () => {};
      return s;
    },
  };
  const plain = { connect: () => { throw new Error("plain TCP used for a TLS connection"); } };
  return { calls, mod, plain };
}

function tlsClient(url: string, opts: any) {
  const t = fakeTls();
  const env = { _net: t.plain, _tls: t.mod, _now: () => 0, _setInterval: () => 0, _clearInterval: () => {}, _setTimeout: (f: any, _ms?: number, a?: any) => f(a) };
  const c = new (Client as any)()._init(options(url, { clientId: "tls", ...opts }, DEFAULTS), nodePlatform(env as any, 100));
  return { c, calls: t.calls };
}

// Node's adapter with the Node build of the client (an Espruino build opens its sockets itself).
describe.runIf(!ESP)("TLS on Node verifies the server by default", () => {
  it("mqtts:// passes no rejectUnauthorized (Node's default: verify) and the host as server name", () => {
    const { calls } = tlsClient("mqtts://broker.example.com", {});
    expect(calls.length).toBe(1);
    expect(calls[0].rejectUnauthorized).not.toBe(false);
    expect("rejectUnauthorized" in calls[0] ? calls[0].rejectUnauthorized : true).toBe(true);
    expect(calls[0].servername).toBe("broker.example.com");
    expect([calls[0].host, calls[0].port]).toEqual(["broker.example.com", 8883]);
  });
  it("tls options without rejectUnauthorized (a CA, a client certificate) still verify", () => {
    const { calls } = tlsClient("mqtts://broker.example.com:8884", { tls: { ca: "CA PEM", cert: "CERT", key: "KEY" } });
    expect(calls[0].rejectUnauthorized).not.toBe(false);
    expect([calls[0].ca, calls[0].cert, calls[0].key, calls[0].port]).toEqual(["CA PEM", "CERT", "KEY", 8884]);
  });
  it("tls: true, tls://, and a tls object with mqtt:// all use TLS and verify", () => {
    for (const [url, o] of [
      ["mqtt://b.example", { tls: true }],
      ["tls://b.example", {}],
      ["mqtt://b.example", { tls: { ca: "x" } }],
    ] as [string, any][]) {
      const { calls } = tlsClient(url, o);
      expect(calls.length).toBe(1);
      expect(calls[0].rejectUnauthorized).not.toBe(false);
    }
  });
  it("only the app's own rejectUnauthorized: false turns verification off", () => {
    const { calls } = tlsClient("mqtts://broker.example.com", { tls: { rejectUnauthorized: false } });
    expect(calls[0].rejectUnauthorized).toBe(false);
  });
});

// ---- a broker declaring huge lengths: memory stays flat

/** V8's gc(), made available in this worker. */
function gcFn(): () => void {
  v8.setFlagsFromString("--expose-gc");
  return vm.runInNewContext("gc");
}

/** A client over a minimal fake socket whose data the test hands over directly (no harness logs). */
function direct(rxSize = 512) {
  let sock: any;
  const env = {
    _net: { connect: () => (sock = Object.assign(new EventEmitter(), { write: () => true, destroy() {}, end() {}, setNoDelay() {} })) },
    _tls: null,
    _now: () => 0,
    _setInterval: () => 0,
    _clearInterval: () => {},
    _setTimeout: (f: any, _ms?: number, a?: any) => f(a),
  };
  const p = ESP
    ? espruinoPlatform({ ...env, _req: (m: string) => (m == "tls" ? null : env._net), _E: { toString: (b: Uint8Array) => Buffer.from(b).toString("latin1") } } as any, 100)
    : nodePlatform(env as any, 100);
  if (ESP) {
    // Espruino's net.connect takes a callback for the connection.
    const connect = env._net.connect;
    (env._net as any).connect = (_o: any, cb: any) => {
      const s = connect();
      s.on("connect", () => cb && cb.call(s, s)); // with the socket as `this` and as its argument, as Espruino does
      return s;
    };
  }
  const c = new (Client as any)()._init(options({ clientId: "mem", keepalive: 0 }, null, { ...DEFAULTS, rxSize }), p);
  const data = (b: Buffer) => sock.emit("data", ESP ? b.toString("latin1") : b);
  sock.emit("connect");
  data(Buffer.from("20020000", "hex"));
  expect(c.connected).toBe(true);
  return { c, data, sock };
}

describe("a broker cannot make the client allocate beyond its fixed buffers", () => {
  it("a PUBLISH declaring 268,435,455 bytes, then 10 MB of it: skipped (210), heap and array buffers flat", () => {
    const gc = gcFn();
    const { c, data } = direct();
    const codes: number[] = [];
    c.on("error", (e: any) => codes.push(e.code));
    const cc: any = c;
    const q = cc._q;
    // One chunk reused: the test allocates nothing per step either (an Espruino string is made once).
    const chunk = Buffer.alloc(65536, 0x41), str = chunk.toString("latin1");
    const feed = () => (ESP ? (c as any)._sock.emit("data", str) : (c as any)._sock.emit("data", chunk));
    data(Buffer.from("30ffffff7f000174", "hex")); // PUBLISH, Remaining Length 268,435,455, topic "t"
    for (let i = 0; i < 16; i++) feed(); // warm up
    gc();
    const m0 = process.memoryUsage();
    for (let i = 0; i < 160; i++) feed(); // 10 MB
    gc();
    const m1 = process.memoryUsage();
    const heap = m1.heapUsed - m0.heapUsed, ab = m1.arrayBuffers - m0.arrayBuffers;
    console.log(`${MODE}: 10 MB of a 256 MB PUBLISH: heapUsed ${heap >= 0 ? "+" : ""}${heap} B, arrayBuffers ${ab >= 0 ? "+" : ""}${ab} B`);
    expect(codes).toEqual([210]);
    expect(c.stats.skipped).toBe(1);
    expect(c.connected).toBe(true);
    expect(cc._q).toBe(q);
    // Only the capacity is kept (no receive buffer): a body that spans chunks collects in a string.
    expect(cc._rx).toBe(512);
    expect(cc._buf).toBe(undefined);
    expect(cc._a ? cc._a.length : 0).toBeLessThanOrEqual(512);
    // Generous bounds: a tenth of what was streamed (a copy would be 10 MB).
    expect(heap).toBeLessThan(1 << 20);
    expect(ab).toBeLessThan(1 << 20);
    // The rest of the declared length passes by too, and the stream goes on (268,435,455 - 2 - 1
    // - 176 * 65,536 bytes remain): the client is not stuck, it is still skipping.
    expect(cc._k).toBe(268435455 - 3 - 176 * 65536);
  });

  it("a SUBACK declaring 268,435,455 bytes is refused at its header (209): nothing is collected", () => {
    const { c, data } = direct();
    const codes: number[] = [];
    c.on("error", (e: any) => codes.push(e.code));
    data(Buffer.from("90ffffff7f0001", "hex"));
    expect(codes).toEqual([209]);
    expect(c.connected).toBe(false);
  });
});

// ---- topics from the network are validated before any handler sees them

const BAD_TOPICS: [string, string][] = [
  ["C3 28 (a lead byte without its continuation)", "c3 28"],
  ["C0 AF (an overlong '/')", "c0 af"],
  ["ED A0 80 (a surrogate, U+D800)", "ed a0 80"],
  ["F4 90 80 80 (past U+10FFFF)", "f4 90 80 80"],
  ["E2 82 (truncated)", "e2 82"],
  ["80 (a lone continuation byte)", "61 80"],
  ["FF", "ff"],
  ["00 (U+0000)", "61 00"],
];

describe.each([["default", undefined], ["1", 1]] as [string, number | undefined][])("topics from the network (chunkSize %s)", (_, chunkSize) => {
  for (const [name, hex] of BAD_TOPICS)
    for (const qos of [0, 1])
      it(`ill-formed UTF-8 ${name} at QoS ${qos}: 205, no handler called, no PUBACK, connection closed`, () => {
        const { sim, clock, make } = rig(chunkSize ? { chunkSize } : {});
        const broker = new ScriptedBroker(sim);
        const c = make({ reconnectPeriod: 1000 });
        let calls = 0;
        const codes: number[] = [];
        c.on("error", (e: any) => codes.push(e.code));
        c.on("message", () => calls++);
        c.subscribe("#", { qos: 1, handler: () => calls++ });
        broker.expectPacket("connect");
        broker.connack(0);
        const s = broker.expectPacket("subscribe");
        broker.send({ cmd: "suback", messageId: s.messageId, granted: [1] });
        clock.flush();
        const t = Buffer.from(hex.replace(/ /g, ""), "hex");
        const body = Buffer.concat([Buffer.from([0, t.length]), t, qos ? Buffer.from([0, 7]) : Buffer.alloc(0), Buffer.from("payload")]);
        broker.send(Buffer.concat([Buffer.from([0x30 | (qos << 1), body.length]), body]));
        clock.flush();
        expect(codes).toEqual([205]);
        expect(calls).toBe(0);
        expect(c.connected).toBe(false);
        expect(broker.packets.filter((p) => p.cmd == "puback")).toEqual([]);
      });

  it("the same ill-formed topic on a PUBLISH larger than the receive buffer: 205, not skipped nor acknowledged", () => {
    const { sim, clock, make } = rig(chunkSize ? { chunkSize } : {});
    const broker = new ScriptedBroker(sim);
    const c = make({ reconnectPeriod: 1000 });
    const codes: number[] = [];
    c.on("error", (e: any) => codes.push(e.code));
    broker.expectPacket("connect");
    broker.connack(0);
    clock.flush();
    const body = Buffer.concat([Buffer.from([0, 2, 0xc3, 0x28, 0, 7]), Buffer.alloc(1000, 0x41)]);
    broker.send(Buffer.concat([Buffer.from([0x32, 0x80 | (body.length & 127), body.length >> 7]), body]));
    clock.flush();
    expect(codes).toEqual([205]);
    expect(c.stats.skipped).toBe(0);
    expect(broker.packets.filter((p) => p.cmd == "puback")).toEqual([]);
  });
});
