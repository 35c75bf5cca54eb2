import { describe, expect, it } from "vitest";
import { VirtualClock } from "./clock";
import { SimNetwork, type Mode, type SimConnection } from "./network";
import { ScriptedBroker } from "./broker";

const latin1 = (s: string) => Array.from(s, (ch) => ch.charCodeAt(0));
const ascii = (b: Uint8Array) => Buffer.from(b).toString("latin1");

function setup(mode: Mode, opts: { chunkSize?: number; latency?: number; writeDelay?: number; highWaterMark?: number } = {}) {
  const clock = new VirtualClock({ start: 0, handles: mode === "node" ? "object" : "number" });
  const sim = new SimNetwork({ clock, mode, ...opts });
  const broker = new ScriptedBroker(sim);
  return { clock, sim, broker };
}

/** Records every event a socket emits, with the time and its arguments. */
function record(sock: any, events: string[]) {
  const log: any[][] = [];
  for (const ev of events) sock.on(ev, (...args: any[]) => log.push([ev, ...args]));
  return log;
}

describe("Espruino socket", () => {
  it("has Espruino's methods only, and calls back with the socket, never synchronously", () => {
    const { clock, sim } = setup("espruino");
    sim.listen(() => {});
    let got: any;
    const s: any = sim.net.connect({ host: "broker", port: 1883 }, (arg: any) => (got = arg));
    for (const m of ["on", "emit", "removeListener", "removeAllListeners", "write", "end", "available", "read"]) {
      expect(typeof s[m]).toBe("function");
    }
    expect(s.destroy).toBeUndefined(); // Node-only: calling it would throw on a board
    expect(s.close).toBeUndefined();
    expect(s.setNoDelay).toBeUndefined();
    expect(s.on("x", () => {})).toBeUndefined();
    expect(got).toBeUndefined();
    clock.flush();
    expect(got).toBe(s);
  });

  it("fires connect, then drain when nothing waits to be sent", () => {
    const { clock, sim } = setup("espruino");
    sim.listen(() => {});
    const s = sim.net.connect({ host: "b", port: 1 });
    const log = record(s, ["connect", "drain"]);
    clock.flush();
    expect(log).toEqual([["connect", s], ["drain", s]]); // the socket itself, as Espruino 2v29 gives it
  });

  it("write() of a Uint8Array, ArrayBuffer or Array sends comma text, returns false, and drains later", () => {
    const { clock, sim, broker } = setup("espruino", { writeDelay: 5 });
    const s = sim.net.connect({ host: "b", port: 1 });
    clock.flush();
    const drains: number[] = [];
    s.on("drain", () => drains.push(clock.elapsed()));
    expect(s.write(new Uint8Array([1, 2, 200]))).toBe(false);
    expect(s.write(new Uint8Array([3, 4]).buffer)).toBe(false);
    expect(s.write([5, 6])).toBe(false);
    expect(drains).toEqual([]);
    clock.advance(4);
    expect(drains).toEqual([]);
    expect(broker.bytes().length).toBe(0);
    clock.advance(1);
    expect(ascii(broker.bytes())).toBe("1,2,2003,45,6");
    expect(drains).toEqual([5]); // one drain for the whole buffer
    expect(sim.violations).toHaveLength(3);
    expect(sim.violations[0]).toMatch(/Uint8Array/);
    expect(sim.violations[1]).toMatch(/ArrayBuffer/);
    expect(sim.violations[2]).toMatch(/Array/);
  });

  it("write() of a byte string sends those bytes, one per char; a char over 255 is a violation", () => {
    const { clock, sim, broker } = setup("espruino");
    const s = sim.net.connect({ host: "b", port: 1 });
    s.write("\x10\x00\xff\x80A");
    clock.flush();
    expect(Array.from(broker.bytes())).toEqual([0x10, 0, 0xff, 0x80, 0x41]);
    expect(sim.violations).toEqual([]);
    s.write("é€");
    clock.flush();
    expect(sim.violations).toHaveLength(1);
    expect(sim.violations[0]).toMatch(/char code 8364/);
  });

  it("delivers data as Strings of at most chunkSize chars, whatever the server wrote", () => {
    for (const chunkSize of [536, 268, 7, 1]) {
      const { clock, sim, broker } = setup("espruino", { chunkSize });
      const s = sim.net.connect({ host: "b", port: 1 });
      const got: string[] = [];
      s.on("data", (d: any) => got.push(d));
      clock.flush();
      const payload = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7) & 255);
      broker.send(payload.subarray(0, 1234));
      broker.send(payload.subarray(1234));
      clock.flush();
      expect(got.every((d) => typeof d === "string")).toBe(true);
      expect(Math.max(...got.map((d) => d.length))).toBeLessThanOrEqual(chunkSize);
      expect(got.length).toBe(Math.ceil(5000 / chunkSize)); // coalesced across server writes
      expect(latin1(got.join(""))).toEqual(Array.from(payload));
    }
  });

  it("keeps data without a data listener for read()/available()", () => {
    const { clock, sim, broker } = setup("espruino");
    const s: any = sim.net.connect({ host: "b", port: 1 });
    clock.flush();
    broker.send([1, 2, 3]);
    clock.flush();
    expect(s.available()).toBe(3);
    expect(latin1(s.read(2))).toEqual([1, 2]);
    const got: string[] = [];
    s.on("data", (d: string) => got.push(d));
    clock.flush();
    expect(got.map(latin1)).toEqual([[3]]);
  });

  it("sends in chunkSize pieces, one per write delay", () => {
    const { clock, sim, broker } = setup("espruino", { chunkSize: 100, writeDelay: 10 });
    const s = sim.net.connect({ host: "b", port: 1 });
    clock.flush();
    s.write("x".repeat(250));
    clock.advance(10);
    expect(broker.bytes().length).toBe(100);
    clock.advance(10);
    expect(broker.bytes().length).toBe(200);
    clock.advance(10);
    expect(broker.bytes().length).toBe(250);
  });

  it("a remote close gives end then close(false); end() gives end and close(false) and a FIN", () => {
    const { clock, sim, broker } = setup("espruino");
    const s = sim.net.connect({ host: "b", port: 1 });
    const log = record(s, ["end", "close", "error"]);
    clock.flush();
    broker.end();
    clock.flush();
    expect(log).toEqual([["end"], ["close", false]]);

    const s2 = sim.net.connect({ host: "b", port: 1 });
    const log2 = record(s2, ["end", "close", "error", "drain"]);
    clock.flush();
    let fin = false;
    broker.conn.far.push({ end: () => (fin = true) });
    s2.write("bye");
    s2.end();
    clock.flush();
    expect(ascii(broker.bytes())).toBe("bye");
    expect(fin).toBe(true);
    expect(log2).toEqual([["drain", s2], ["end"], ["close", false]]); // no drain after end()
  });

  it("end() before the connection is up still sends what was written, then closes", () => {
    const { clock, sim, broker } = setup("espruino", { latency: 30 });
    const s = sim.net.connect({ host: "b", port: 1 });
    const log = record(s, ["connect", "drain", "end", "close"]);
    s.write("hi");
    s.end();
    let fin = false;
    clock.advance(30);
    broker.conn.far.push({ end: () => (fin = true) });
    clock.advance(30);
    expect(ascii(broker.bytes())).toBe("hi");
    expect(fin).toBe(true);
    expect(log).toEqual([["connect", s], ["end"], ["close", false]]);

    const s2 = sim.net.connect({ host: "b", port: 1 }); // nothing to send: abandoned at once
    const log2 = record(s2, ["connect", "end", "close"]);
    s2.end();
    clock.advance(100);
    expect(log2).toEqual([["end"], ["close", false]]);
    expect(broker.connections).toHaveLength(1);
  });

  it("a remote close with unsent data is error -8 'unsent data'", () => {
    const { clock, sim, broker } = setup("espruino", { writeDelay: 50 });
    const s = sim.net.connect({ host: "b", port: 1 });
    const log = record(s, ["error", "end", "close"]);
    clock.flush();
    s.write("pending");
    broker.end();
    clock.flush();
    expect(log).toEqual([["error", { code: -8, message: "unsent data" }], ["end"], ["close", true]]);
  });

  it("refuses by throwing: 'Unable to create socket' and 'Unable to locate host'", () => {
    const { clock, sim } = setup("espruino");
    sim.listen(() => {});
    sim.refuseNext(1, "throw");
    sim.refuseNext(1, "dns");
    expect(() => sim.net.connect({ host: "b", port: 1 })).toThrow("Unable to create socket");
    expect(() => sim.net.connect({ host: "nowhere", port: 1 })).toThrow("Unable to locate host");
    clock.advance(100);
    const s = sim.net.connect({ host: "b", port: 1 });
    const log = record(s, ["connect", "error"]);
    clock.flush();
    expect(log).toEqual([["connect", s]]);
    expect(sim.connections.map((c) => c.state)).toEqual(["refused", "refused", "open"]);
  });

  it("refuses by event: error {code, message}, end, close(true), after the given delay", () => {
    const { clock, sim } = setup("espruino");
    sim.listen(() => {});
    sim.refuseNext(1, "event", { after: 3000 });
    const s = sim.net.connect({ host: "b", port: 1 });
    const log = record(s, ["connect", "error", "end", "close"]);
    clock.advance(2999);
    expect(log).toEqual([]);
    clock.advance(1);
    expect(log).toEqual([["error", { code: -9, message: "connection reset" }], ["end"], ["close", true]]);

    sim.refuseNext(1, "event", { code: -6 });
    const s2 = sim.net.connect("mqtt://nowhere:1883");
    const log2 = record(s2, ["error"]);
    clock.flush();
    expect(log2).toEqual([["error", { code: -6, message: "not found" }]]);
    expect(sim.connections[1].host).toBe("nowhere");
    expect(sim.connections[1].port).toBe(1883);
  });

  it("refuses with -9 when nobody listens", () => {
    const { clock, sim } = setup("espruino");
    sim.listen(null);
    const s = sim.net.connect({ host: "b", port: 1 });
    const log = record(s, ["error", "close"]);
    clock.flush();
    expect(log).toEqual([["error", { code: -9, message: "connection reset" }], ["close", true]]);
  });

  it("tls.connect defaults to port 443 and records the options; tls can be absent (ESP8266)", () => {
    const { clock, sim } = setup("espruino");
    sim.listen(() => {});
    const s = sim.tls!.connect({ host: "b", ca: "CA" });
    clock.flush();
    expect(sim.connections[0]).toMatchObject({ port: 443, secure: true, options: { ca: "CA" } });
    expect(s).toBeDefined();
    const esp8266 = new SimNetwork({ clock, mode: "espruino", chunkSize: 268, tls: false });
    expect(esp8266.tls).toBeUndefined();
  });

  it("emit() is queued and takes at most 4 arguments", () => {
    const { clock, sim } = setup("espruino");
    sim.listen(() => {});
    const s: any = sim.net.connect({ host: "b", port: 1 });
    const got: any[] = [];
    s.on("x", (...a: any[]) => got.push(a));
    s.emit("x", 1, 2, 3, 4);
    expect(got).toEqual([]);
    clock.flush();
    expect(got).toEqual([[1, 2, 3, 4]]);
    expect(() => s.emit("x", 1, 2, 3, 4, 5)).toThrow("Too many arguments");
  });

  it("throwOnWrite makes write() throw (out of memory) without sending", () => {
    const { clock, sim, broker } = setup("espruino");
    const s = sim.net.connect({ host: "b", port: 1 });
    clock.flush();
    sim.throwOnWrite(1);
    expect(() => s.write("a")).toThrow("Out of Memory!");
    s.write("b");
    clock.flush();
    expect(ascii(broker.bytes())).toBe("b");
  });

  it("E.toString returns a binary string of the bytes, or undefined when told to fail", () => {
    const { sim } = setup("espruino");
    const E = sim.E;
    expect(E.toString(new Uint8Array([1, 2, 200]))).toBe("\x01\x02\xc8");
    expect(E.toString(new Uint8Array([9, 8]).buffer)).toBe("\x09\x08");
    expect(E.toString([65, [66, "C"]], 68, "\xff")).toBe("ABCD\xff");
    expect(E.toString({ data: 0, count: 3 })).toBe("\0\0\0");
    expect(E.toString(new Uint8Array([1, 2, 3, 4]).subarray(1, 3))).toBe("\x02\x03");
    E.failNext(2);
    expect(E.toString(new Uint8Array([1]))).toBeUndefined();
    expect(E.toString("x")).toBeUndefined();
    expect(E.toString("x")).toBe("x");
  });
});

describe("Node socket", () => {
  it("emits connect, ready, and calls the callback; data comes as Buffers of at most chunkSize", () => {
    const { clock, sim, broker } = setup("node", { chunkSize: 1000 });
    let cbCalls = 0;
    const s = sim.net.connect({ host: "b", port: 1883 }, () => cbCalls++) as any;
    const log = record(s, ["connect", "ready"]);
    expect(s.connecting).toBe(true);
    clock.flush();
    expect(log).toEqual([["connect"], ["ready"]]);
    expect(cbCalls).toBe(1);
    expect(s.connecting).toBe(false);
    const got: Buffer[] = [];
    s.on("data", (b: Buffer) => got.push(b));
    broker.send(new Uint8Array(2500).fill(7));
    clock.flush();
    expect(got.map((b) => b.length)).toEqual([1000, 1000, 500]);
    expect(got.every((b) => Buffer.isBuffer(b))).toBe(true);
    expect(s.setNoDelay(true)).toBe(s);
    expect(s.setKeepAlive(true, 1000)).toBe(s);
  });

  it("buffers data until a data listener exists (paused stream)", () => {
    const { clock, sim, broker } = setup("node");
    const s = sim.net.connect(1883, "b") as any;
    clock.flush();
    broker.send([1, 2]);
    clock.flush();
    const got: number[][] = [];
    s.on("data", (b: Buffer) => got.push([...b]));
    clock.flush();
    expect(got).toEqual([[1, 2]]);
  });

  it("write() returns false past highWaterMark, then drain; callbacks run when taken", () => {
    const { clock, sim, broker } = setup("node", { highWaterMark: 100, writeDelay: 20 });
    const s = sim.net.connect({ host: "b", port: 1 }) as any;
    clock.flush();
    const log = record(s, ["drain"]);
    const cbs: any[] = [];
    expect(s.write(Buffer.alloc(60), (e: any) => cbs.push(e))).toBe(true);
    expect(s.write("x".repeat(40), () => cbs.push("2"))).toBe(false);
    expect(s.writableLength).toBe(100);
    expect(s.writableNeedDrain).toBe(true);
    clock.advance(19);
    expect(cbs).toEqual([]);
    expect(log).toEqual([]);
    clock.advance(1);
    expect(cbs).toEqual([null, "2"]);
    expect(broker.bytes().length).toBe(100);
    clock.flush();
    expect(log).toEqual([["drain"]]);
    expect(s.writableLength).toBe(0);
  });

  it("keeps a written Uint8Array by reference until the socket takes it", () => {
    const { clock, sim, broker } = setup("node", { writeDelay: 1 });
    const s = sim.net.connect({ host: "b", port: 1 }) as any;
    clock.flush();
    const buf = new Uint8Array([1, 2, 3]);
    s.write(buf);
    buf[0] = 9; // a client reusing its buffer before the write callback
    clock.advance(1);
    expect(Array.from(broker.bytes())).toEqual([9, 2, 3]);
  });

  it("rejects non-byte chunks like Node does", () => {
    const { clock, sim } = setup("node");
    sim.listen(() => {});
    const s = sim.net.connect({ host: "b", port: 1 }) as any;
    clock.flush();
    expect(() => s.write([1, 2])).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_TYPE" }));
  });

  it("connect failures: Error with .code, then close(true)", () => {
    const cases: [string, any, string, string][] = [
      ["event", {}, "ECONNREFUSED", "connect ECONNREFUSED b:1883"],
      ["dns", {}, "ENOTFOUND", "getaddrinfo ENOTFOUND b"],
      ["event", { code: "ETIMEDOUT" }, "ETIMEDOUT", "connect ETIMEDOUT b:1883"],
      ["event", { code: -3 }, "ETIMEDOUT", "connect ETIMEDOUT b:1883"],
    ];
    for (const [how, opts, code, message] of cases) {
      const { clock, sim } = setup("node");
      sim.refuseNext(1, how as any, opts);
      const s = sim.net.connect({ host: "b", port: 1883 }) as any;
      const log = record(s, ["connect", "error", "close", "end"]);
      clock.flush();
      expect(log.map((l) => l[0])).toEqual(["error", "close"]);
      expect(log[0][1]).toBeInstanceOf(Error);
      expect(log[0][1]).toMatchObject({ code, message });
      expect(log[1][1]).toBe(true);
      expect(s.destroyed).toBe(true);
    }
  });

  it("throws synchronously for a bad port, and on the throw knob", () => {
    const { sim } = setup("node");
    expect(() => sim.net.connect({ host: "b", port: 70000 })).toThrow(
      expect.objectContaining({ code: "ERR_SOCKET_BAD_PORT", name: "RangeError" }));
    expect(() => sim.net.connect({ host: "b" })).toThrow(expect.objectContaining({ code: "ERR_MISSING_ARGS" }));
    sim.refuseNext(1, "throw");
    expect(() => sim.net.connect({ host: "b", port: 1 })).toThrow(expect.objectContaining({ code: "ERR_SOCKET_BAD_PORT" }));
  });

  it("an unhandled 'error' throws, as in Node", () => {
    const { clock, sim } = setup("node");
    sim.refuseNext(1, "event");
    sim.net.connect({ host: "b", port: 1 });
    expect(() => clock.flush()).toThrow("ECONNREFUSED");
  });

  it("a remote close gives end then close(false), and the FIN is answered", () => {
    const { clock, sim, broker } = setup("node");
    const s = sim.net.connect({ host: "b", port: 1 }) as any;
    const log = record(s, ["end", "close", "error"]);
    s.on("data", () => {});
    clock.flush();
    let fin = false;
    broker.conn.far.push({ end: () => (fin = true) });
    broker.send([1]);
    broker.end();
    clock.flush();
    expect(log).toEqual([["end"], ["close", false]]);
    expect(fin).toBe(true);
    expect(s.destroyed).toBe(true);
  });

  it("end() sends a FIN; the server's answering FIN then gives end and close(false)", () => {
    const { clock, sim, broker } = setup("node");
    const s = sim.net.connect({ host: "b", port: 1 }) as any;
    const log = record(s, ["end", "close", "finish"]);
    clock.flush();
    s.end("last");
    clock.flush();
    expect(ascii(broker.bytes())).toBe("last");
    expect(log.map((l) => l[0])).toEqual(["finish", "end", "close"]);
    expect(log[2][1]).toBe(false);
  });

  it("write() after end() fails with ERR_STREAM_WRITE_AFTER_END", () => {
    const { clock, sim } = setup("node");
    sim.listen(() => {});
    const s = sim.net.connect({ host: "b", port: 1 }) as any;
    clock.flush();
    const log = record(s, ["error"]);
    s.end();
    let cbErr: any;
    expect(s.write("more", (e: any) => (cbErr = e))).toBe(false);
    clock.flush();
    expect(cbErr?.code).toBe("ERR_STREAM_WRITE_AFTER_END");
    expect(log[0][1].code).toBe("ERR_STREAM_WRITE_AFTER_END");
  });

  it("destroy() closes at once with close(false); the far side sees the connection end", () => {
    const { clock, sim, broker } = setup("node");
    const s = sim.net.connect({ host: "b", port: 1 }) as any;
    clock.flush();
    let fin = false;
    broker.conn.far.push({ end: () => (fin = true) });
    const log = record(s, ["close", "error", "end"]);
    s.destroy();
    expect(log).toEqual([]);
    clock.flush();
    expect(log).toEqual([["close", false]]);
    expect(fin).toBe(true);
  });

  it("tls.connect calls back on secureConnect", () => {
    const { clock, sim } = setup("node");
    sim.listen(() => {});
    let called = 0;
    const s = sim.tls!.connect({ host: "b", port: 8883, rejectUnauthorized: false }, () => called++) as any;
    const log = record(s, ["connect", "secureConnect"]);
    clock.flush();
    expect(log).toEqual([["connect"], ["secureConnect"]]);
    expect(called).toBe(1);
    expect(s.encrypted).toBe(true);
    expect(sim.connections[0].options.rejectUnauthorized).toBe(false);
  });

  it("setTimeout() emits 'timeout' after idle virtual time", () => {
    const { clock, sim, broker } = setup("node");
    const s = sim.net.connect({ host: "b", port: 1 }) as any;
    s.on("data", () => {});
    clock.flush();
    let t = 0;
    s.setTimeout(1000, () => t++);
    clock.advance(900);
    broker.send([1]);
    clock.advance(900);
    expect(t).toBe(0);
    clock.advance(100);
    expect(t).toBe(1);
  });
});

describe.each(["espruino", "node"] as Mode[])("faults (%s)", (mode) => {
  const dataOf = (d: any) => (typeof d === "string" ? latin1(d) : [...d]);

  function open(opts: { chunkSize?: number; latency?: number } = {}) {
    const env = setup(mode, opts);
    const s: any = env.sim.net.connect({ host: "b", port: 1 });
    const log = record(s, ["error", "end", "close"]);
    const got: number[] = [];
    s.on("data", (d: any) => got.push(...dataOf(d)));
    env.clock.advance(opts.latency ?? 0);
    return { ...env, s, log, got };
  }
  const errorCode = (log: any[][]) => log.find((l) => l[0] === "error")?.[1].code;

  it("dropAfter(n, 'in') delivers the first n bytes of a packet, then the link drops", () => {
    const { clock, sim, broker, log, got } = open();
    sim.dropAfter(3, "in");
    broker.send("30 05 00 01 61 68 69"); // PUBLISH a "hi"
    broker.send("d0 00");
    clock.flush();
    expect(got).toEqual([0x30, 0x05, 0x00]);
    expect(log.map((l) => l[0])).toEqual(mode === "node" ? ["error", "close"] : ["error", "end", "close"]);
    expect(errorCode(log)).toBe(mode === "node" ? "ECONNRESET" : -9);
    expect(broker.conn.state).toBe("closed");
  });

  it("dropAfter(n, 'out') lets n bytes reach the broker, then resets both ends", () => {
    const { clock, sim, broker, s, log } = open();
    let reset = false;
    broker.conn.far.push({ reset: () => (reset = true) });
    sim.dropAfter(4, "out");
    s.write(mode === "node" ? Buffer.from("0123456789") : "0123456789");
    s.write(mode === "node" ? Buffer.from("abc") : "abc");
    clock.flush();
    expect(ascii(broker.bytes())).toBe("0123");
    expect(reset).toBe(true);
    expect(log.map((l) => l[0])).toEqual(mode === "node" ? ["error", "close"] : ["error", "end", "close"]);
  });

  it("halfOpen() delivers nothing either way and raises no event", () => {
    const { clock, sim, broker, s, log, got } = open();
    const seen: string[] = [];
    for (const ev of ["error", "end", "close", "connect", "data", "timeout"]) s.on(ev, () => seen.push(ev));
    sim.halfOpen();
    broker.send([1, 2, 3]);
    broker.end();
    s.write(mode === "node" ? Buffer.from("x") : "x");
    clock.advance(600_000);
    expect(got).toEqual([]);
    expect(broker.bytes().length).toBe(0);
    expect(log).toEqual([]);
    expect(seen).toEqual([]);
    expect(broker.conn.state).toBe("open"); // nobody knows
  });

  it("corruptNextByte(offset) flips one byte toward the client", () => {
    const { clock, sim, broker, got } = open();
    sim.corruptNextByte(1);
    broker.send([0x20, 0x02, 0x00, 0x00]);
    broker.send([0x20, 0x02, 0x00, 0x00]);
    clock.flush();
    expect(got).toEqual([0x20, 0xfd, 0x00, 0x00, 0x20, 0x02, 0x00, 0x00]);
  });

  it("slowWrites(ms) delays when the socket takes writes", () => {
    const { clock, sim, broker, s } = open();
    const drained: number[] = [];
    s.on("drain", () => drained.push(clock.elapsed()));
    sim.slowWrites(250);
    const t0 = clock.elapsed();
    s.write(mode === "node" ? Buffer.from("abc") : "abc", () => drained.push(-1));
    clock.advance(249);
    expect(broker.bytes().length).toBe(0);
    clock.advance(1);
    expect(ascii(broker.bytes())).toBe("abc");
    if (mode === "espruino") expect(drained).toEqual([t0 + 250]); // Node: drain only after write() returned false
    else expect(drained).toEqual([-1]);
  });

  it("cut() closes now: the client sees a reset, undelivered bytes are lost", () => {
    const { clock, sim, broker, log, got } = open({ latency: 50 });
    broker.send([1, 2]);
    clock.advance(10);
    sim.cut();
    clock.advance(100);
    expect(got).toEqual([]);
    expect(errorCode(log)).toBe(mode === "node" ? "ECONNRESET" : -9);
    expect(log[log.length - 1]).toEqual(["close", true]);
    expect(sim.current).toBeUndefined();
  });

  it("latency delays the connection and bytes each way, keeping order", () => {
    const env = setup(mode, { latency: 40 });
    const s: any = env.sim.net.connect({ host: "b", port: 1 });
    const log = record(s, ["connect"]);
    env.clock.advance(39);
    expect(log).toEqual([]);
    env.clock.advance(1);
    expect(log.length).toBe(1);
    const got: number[] = [];
    s.on("data", (d: any) => got.push(...dataOf(d)));
    env.broker.send([1]);
    env.clock.advance(20);
    env.sim.latency = 5; // a later, faster packet does not overtake
    env.broker.send([2]);
    env.clock.advance(19);
    expect(got).toEqual([]);
    env.clock.advance(1);
    expect(got).toEqual([1, 2]);
  });

  it("faults set with no open connection apply to the next one", () => {
    const env = setup(mode);
    env.sim.dropAfter(1, "in");
    const s: any = env.sim.net.connect({ host: "b", port: 1 });
    const got: number[] = [];
    s.on("data", (d: any) => got.push(...dataOf(d)));
    s.on("error", () => {});
    env.clock.flush();
    env.broker.send([7, 8, 9]);
    env.clock.flush();
    expect(got).toEqual([7]);
    expect((env.sim.connections[0] as SimConnection).state).toBe("closed");
  });
});
