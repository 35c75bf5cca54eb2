// The client's receive function, rx() in client.ts: every packet checked and framed where it lies
// in a chunk, one that spans chunks collected in `_a` (at most rxSize body bytes and its header),
// the rest of a PUBLISH longer than rxSize skipped (`_k` bytes left). What the client does must
// never depend on how TCP cut the stream, and must match the codec's streaming decoder
// (src/codec/decoder.ts), which the client used before rx().
import { describe, it, expect } from "vitest";
import mqtt from "mqtt-packet";
import { CHUNKS, MODE, connected, drain, lines, prng, text } from "./helpers";
import { initDecoder, feed } from "../../src/codec/decoder";
import { badUtf8 } from "../../src/codec/strings";

const DATA = 1; // Io.Data

/**
 * Chunk `x` of socket `s` to client `c` as its platform hands it over: on Espruino the socket
 * calls _io itself, as its listener (the socket as `this`); on Node the adapter calls _io(s, Io.Data, x).
 */
function io(c: any, s: any, x: string) {
  if (MODE == "espruino") c._io.call(s, x);
  else c._io(s, DATA, x);
}

/** Hex text ("30 03 00 01 61") as an 8-bit string, one char per byte. */
function bin(hex: string): string {
  return Buffer.from(hex.replace(/\s+/g, ""), "hex").toString("latin1");
}

/** A packet as mqtt-packet makes it, as an 8-bit string. */
function gen(p: any): string {
  return Buffer.from(mqtt.generate(p)).toString("latin1");
}

/** What the decoder (or rx) hands on for one packet, as a line. */
function show(d: any): string {
  const b = d._d as string, t = d._type;
  // (rx() marks an oversize PUBLISH with 16 in _flags; the old decoder had _big.)
  let s = `t${t} f${d._flags & 15} id${d._id}`;
  if (t == 3) s += ` ${b.substring(d._ts, d._te)}=${b.substring(d._ps, d._pe).length}:${b.substring(d._ps, d._pe)}${d._big || d._flags & 16 ? " big" : ""}`;
  else if (t == 9) s += ` codes=${[...b.substring(d._ps, d._pe)].map((x) => x.charCodeAt(0)).join(",")}`;
  else if (t == 2) s += ` ${b.charCodeAt(d._o)},${b.charCodeAt(d._o + 1)}`;
  return s;
}

/** The old decoder over `chunks`, in string mode as the client used it: its packets, then its error. */
function reference(rxSize: number, chunks: string[]): string[] {
  const out: string[] = [];
  const d: any = initDecoder({}, rxSize, (d: any) => out.push(show(d)));
  d._u = badUtf8;
  for (const x of chunks) {
    const e = feed(d, x, 0, x.length);
    if (e) {
      out.push("error " + e);
      break;
    }
    out.push("|"); // the end of a chunk: when each packet and error is seen is compared too
  }
  return out;
}

/**
 * rx() over `chunks`, through the client's own _io on one socket: the packets it hands to
 * _packet (replaced by a recorder) and the error it closes the connection with.
 */
function viaRx(rxSize: number, chunks: string[], probe?: (c: any) => void): string[] {
  const c: any = connected({ reconnectPeriod: 0 }, { rxSize }).c;
  const out: string[] = [];
  c.on("error", (e: any) => out.push("error " + e.code));
  c._packet = function () {
    out.push(show(this));
  };
  const s = c._sock;
  expect(s).toBeTruthy();
  for (const x of chunks) {
    io(c, s, x);
    if (probe) probe(c);
    if (c._sock != s) break;
    out.push("|");
  }
  return out;
}

/** Every way to cut `b` into two chunks, and into three, plus one byte per chunk. */
function* cuts(b: string, three = true): Generator<string[]> {
  yield [b];
  yield [...b];
  for (let i = 0; i <= b.length; i++) {
    yield [b.slice(0, i), b.slice(i)];
    if (three) for (let j = i; j <= b.length; j++) yield [b.slice(0, i), b.slice(i, j), b.slice(j)];
  }
}

/** Random chunks of `b`, with empty ones among them. */
function randomCuts(b: string, rnd: () => number): string[] {
  const out: string[] = [];
  for (let i = 0; i < b.length; ) {
    const r = rnd();
    const k = r < 0.1 ? 0 : r < 0.5 ? 1 + Math.floor(rnd() * 4) : 1 + Math.floor(rnd() * 40);
    out.push(b.slice(i, i + k));
    i += k;
    if (rnd() < 0.05) out.push("");
  }
  return out;
}

/** Bare lines, without the chunk ends. */
const bare = (l: string[]) => l.filter((x) => x != "|");

/**
 * rx() over chunks `ch` of `b` does what the old decoder did over them, chunk by chunk (each
 * packet and the error seen at the same chunk), and the same as over `b` in one chunk.
 */
function same(rxSize: number, b: string, ch: string[], why: any = {}): string[] {
  const want = reference(rxSize, ch);
  const got = viaRx(rxSize, ch);
  if (got.join("\n") != want.join("\n")) expect({ ...why, rxSize, ch, got }).toEqual({ ...why, rxSize, ch, got: want });
  const whole = bare(reference(rxSize, [b]));
  if (bare(got).join("\n") != whole.join("\n")) expect({ ...why, rxSize, ch, got: bare(got) }).toEqual({ ...why, rxSize, ch, got: whole });
  return got;
}

const RX = 16;

/** A stream of several packets: a small PUBLISH, an oversize one of each QoS, acks, PINGRESP, SUBACK. */
const MIXED =
  bin("d0 00") + // PINGRESP
  gen({ cmd: "publish", topic: "a/b", payload: "hi", qos: 1, messageId: 7 }) +
  gen({ cmd: "publish", topic: "big", payload: "B".repeat(40), qos: 1, messageId: 8 }) + // body 47 > 16
  bin("40 02 00 05") + // PUBACK 5
  gen({ cmd: "publish", topic: "t", payload: "x".repeat(RX - 3), qos: 0 }) + // body exactly rxSize
  gen({ cmd: "publish", topic: "t", payload: "y".repeat(RX - 2), qos: 0 }) + // body rxSize + 1: skipped
  bin("90 04 00 09 01 80") + // SUBACK 9 [1, 0x80]
  bin("d0 00");

describe("rx() against the old decoder, for every cut of the stream", () => {
  it("a mixed stream: the same packets, in order, for every 1-, 2- and 3-way cut and one byte per chunk", () => {
    const want = bare(reference(RX, [MIXED]));
    expect(want.length).toBe(8);
    expect(want.filter((l) => l.endsWith(" big")).length).toBe(2);
    for (const ch of cuts(MIXED)) same(RX, MIXED, ch);
  });

  const bad: [string, string, number][] = [
    ["Remaining Length with the continuation bit on its 4th byte (2.2.3)", "30 ff ff ff ff 01 00", 201],
    ["a 4-byte Remaining Length that is too long for a PUBACK", "40 80 80 80 01", 204],
    ["an oversize PUBLISH whose topic does not fit in rxSize", "30 20 00 1e" + "61".repeat(30), 209],
    ["an oversize QoS 1 PUBLISH whose id does not fit in rxSize", "32 20 00 0e" + "61".repeat(14) + "00 01" + "62".repeat(14), 209],
    ["an oversize PUBLISH whose topic runs past the packet", "30 20 00 40" + "61".repeat(30), 204],
    ["an oversize SUBACK", "90 14 00 01" + "00".repeat(18), 209],
    ["an oversize PUBLISH with a wildcard in its topic [MQTT-3.3.2-2]", "30 20 00 03 61 2f 23" + "00".repeat(27), 205],
    ["an oversize QoS 1 PUBLISH with id 0 [MQTT-2.3.1-1]", "32 20 00 01 61 00 00" + "00".repeat(27), 206],
    ["a PUBLISH with DUP on QoS 0 [MQTT-2.2.2-2]", "38 03 00 01 61", 202],
  ];
  for (const [name, hex, code] of bad)
    it(`${name}, after good packets: error ${code} at the same point for every cut`, () => {
      const b = bin("d0 00") + gen({ cmd: "publish", topic: "ok", payload: "1", qos: 0 }) + bin(hex) + bin("d0 00");
      const want = reference(RX, [b]);
      expect(want[want.length - 1]).toBe("error " + code);
      for (const ch of cuts(b)) same(RX, b, ch);
    });

  it("random streams and random cuts (empty chunks among them): the same as the old decoder", () => {
    const seed = 0x5eed;
    const rnd = prng(seed);
    const pick = <T>(a: T[]) => a[Math.floor(rnd() * a.length)];
    const packets = [
      () => gen({ cmd: "publish", topic: pick(["a", "a/b", "sensor/x"]), payload: "p".repeat(Math.floor(rnd() * 30)), qos: pick([0, 1]) as any, messageId: 1 + Math.floor(rnd() * 65535) }),
      () => gen({ cmd: "publish", topic: "t", payload: "q".repeat(Math.floor(rnd() * 300)), qos: 0 }),
      () => gen({ cmd: "publish", topic: "long/topic/name", payload: "", qos: 1, messageId: 3 }), // body 19 > 16: 209
      () => bin("d0 00"),
      () => bin("40 02 00 0" + (1 + Math.floor(rnd() * 9))),
      () => bin("b0 02 12 34"),
      () => bin("90 03 00 02 00"),
      () => bin(pick(["30 80 80 80 80", "00 00", "40 03 00 01 00", "30 03 00 01 23", "42 02 00 01", "d0 01 00"])), // malformed
      () => String.fromCharCode(...Array.from({ length: 1 + Math.floor(rnd() * 24) }, () => (rnd() < 0.5 ? pick([0x30, 0x32, 0x40, 0x90, 0xd0, 0x00, 0x80, 0xff, 0x01, 0x02]) : Math.floor(rnd() * 256)))), // noise
    ];
    for (let run = 0; run < Number(process.env.RXRUNS || 300); run++) {
      let b = "";
      const n = 1 + Math.floor(rnd() * 8);
      for (let i = 0; i < n; i++) b += (rnd() < 0.93 ? pick(packets.slice(0, 7)) : pick(packets.slice(7)))();
      const ch = randomCuts(b, rnd);
      const rx = pick([RX, RX + 1, 19, 64]);
      same(rx, b, ch, { seed, run });
    }
  });
});

describe("what rx() holds between chunks", () => {
  it("of an incomplete packet, only its header and at most rxSize body bytes (_a); of an oversize PUBLISH's rest, a count (_k)", () => {
    const big = gen({ cmd: "publish", topic: "t", payload: "z".repeat(5000), qos: 1, messageId: 4 });
    const b = big + bin("d0 00") + gen({ cmd: "publish", topic: "after", payload: "!", qos: 0 });
    let most = 0;
    const ks: number[] = [];
    const got = viaRx(RX, [...b], (c) => {
      most = Math.max(most, c._a ? c._a.length : 0);
      ks.push(c._k);
      // never the chunk once it is read
      expect(c._d).toBe(0); // nothing held (0, not "": one variable fewer on Espruino)
    });
    expect(most).toBeLessThanOrEqual(1 + 4 + RX);
    expect(Math.max(...ks)).toBe(big.length - 3 - RX); // header 30 + 2 length bytes, then rxSize body bytes
    expect(bare(got)).toEqual(["t3 f2 id4 t=0: big", "t13 f0 id0", "t3 f0 id0 after=1:!"]);
  });

  it("an empty chunk changes nothing: not inside a header, a body, or a skip", () => {
    const b = gen({ cmd: "publish", topic: "t", payload: "z".repeat(50), qos: 0 }) + bin("40 82 00 00 07"); // PUBACK 7 with a 2-byte Remaining Length
    expect(bare(viaRx(RX, [b]))).toEqual(["t3 f0 id0 t=0: big", "t4 f0 id7"]);
    for (let i = 0; i <= b.length; i++) same(RX, b, ["", b.slice(0, i), "", "", b.slice(i), ""]);
  });

  it("nothing of a malformed packet's chunk is kept after the connection is closed for it", () => {
    // A packet is read, then a malformed one in the same chunk: the old decoder let go of the
    // chunk (fail() cleared _d); the client then waits for its reconnect with nothing held.
    const b = gen({ cmd: "publish", topic: "t", payload: "x".repeat(200), qos: 0 }) + bin("00 00");
    const held: any[] = [];
    const got = viaRx(512, [b], (c) => held.push([c._a, c._k, !c._d ? "" : `_d holds ${c._d.length} bytes`]));
    expect(got[got.length - 1]).toBe("error 203");
    expect(held).toEqual([[0, 0, ""]]);
  });
});

describe.each(CHUNKS)("rx() in the client (chunkSize %s)", (_, chunkSize) => {
  it("an oversize QoS 1 PUBLISH whose skipped rest ends inside a later chunk, followed by packets in that chunk: 210, acked, the stream kept in sync", () => {
    const { broker, clock, c, log } = connected({}, { rxSize: 64 }, { chunkSize: 100000 });
    const got: string[] = [];
    c.on("message", (t: string, p: any) => got.push(t + "=" + text(p)));
    const big = gen({ cmd: "publish", topic: "big", payload: "B".repeat(300), qos: 1, messageId: 21 });
    const after = gen({ cmd: "publish", topic: "after", payload: "A", qos: 1, messageId: 22 }) + bin("d0 00") + gen({ cmd: "publish", topic: "last", payload: "L", qos: 0 });
    // Chunks: the header and half the body kept; the rest of the rxSize bytes; most of the skip; the skip's end and the packets after it.
    const cut = chunkSize == 1 ? [...(big + after)] : [big.slice(0, 35), big.slice(35, 100), big.slice(100, 290), big.slice(290) + after];
    for (const x of cut) {
      broker.send(Buffer.from(x, "latin1"));
      clock.flush();
    }
    expect(got).toEqual(["after=A", "last=L"]);
    expect(lines(drain(broker, 10))).toEqual(["PUBACK id=21", "PUBACK id=22"]);
    expect(log).toEqual(["connect sp=0", "error 210"]);
    expect(c.stats.skipped).toBe(1);
    expect(c.connected).toBe(true);
  });

});

describe("rx() in the client, chunks cut by hand", () => {
  it("a PINGRESP split after its first byte, and an oversize PUBLISH's 4-byte Remaining Length split at each byte: 210, in sync", () => {
    const { broker, clock, c, log } = connected({}, { rxSize: 64 }, { chunkSize: 100000 });
    const got: string[] = [];
    c.on("message", (t: string, p: any) => got.push(t + "=" + text(p).length));
    // A PUBLISH of 2,097,152 + 6 body bytes: its Remaining Length takes 4 bytes.
    const huge = gen({ cmd: "publish", topic: "h", payload: Buffer.alloc(2097152 + 3, 0x41), qos: 0 });
    expect(huge.charCodeAt(4)).toBeLessThan(128);
    expect(huge.charCodeAt(3)).toBeGreaterThanOrEqual(128);
    const pieces = [bin("d0"), bin("00"), huge.slice(0, 2), huge.slice(2, 3), huge.slice(3, 4), huge.slice(4, 40), huge.slice(40) + bin("d0"), bin("00") + gen({ cmd: "publish", topic: "s", payload: "ok", qos: 0 })];
    for (const x of pieces) {
      broker.send(Buffer.from(x, "latin1"));
      clock.flush();
    }
    expect(got).toEqual(["s=2"]);
    expect(log).toEqual(["connect sp=0", "error 210"]);
    expect(c.connected).toBe(true);
  });
});

describe.each(CHUNKS)("a handler that ends or reconnects the client while rx() reads a chunk (chunkSize %s)", (_, chunkSize) => {
  /** Three QoS 1 messages and a PINGRESP in one write (one chunk unless chunkSize is 1). */
  const three = () => Buffer.from([1, 2, 3].map((i) => gen({ cmd: "publish", topic: "m" + i, payload: "x", qos: 1, messageId: i })).join("") + bin("d0 00"), "latin1");

  it("reconnect() from the first message's handler: nothing more of the old stream is delivered or acknowledged", () => {
    const { broker, clock, c, sim } = connected({ reconnectPeriod: 1000 }, {}, { chunkSize });
    const got: string[] = [];
    c.on("message", (t: string) => {
      got.push(t);
      if (t == "m1") c.reconnect();
    });
    broker.send(three());
    clock.flush();
    expect(got).toEqual(["m1"]);
    expect(sim.connections[0].state).toBe("closed");
    // the new connection starts with nothing held of the old stream
    expect([(c as any)._a, (c as any)._k]).toEqual([0, 0]);
  });

  it("end(true) from the first message's handler: no later message of the chunk is delivered, nothing acknowledged after it", () => {
    const { broker, clock, c } = connected({}, {}, { chunkSize });
    const got: string[] = [];
    c.on("message", (t: string) => {
      got.push(t);
      if (t == "m1") c.end(true);
    });
    let ended = false;
    c.on("end", () => (ended = true));
    broker.send(three());
    clock.flush();
    expect(ended).toBe(true);
    // Whatever the chunks: m2 and m3 are neither delivered nor acknowledged after end(true). (m1's
    // PUBACK may go out before the DISCONNECT or not: on Node the connection is gone when its
    // handler returns, on Espruino it finishes on the next turn.)
    const sent = lines(drain(broker, 10)).filter((l) => l != "PUBACK id=1");
    expect({ got, sent }).toEqual({ got: ["m1"], sent: ["DISCONNECT"] });
  });

  it("reconnect() from the 210 error listener of an oversize PUBLISH: the old stream's skip is not carried to the new connection", () => {
    const { broker, clock, c, sim } = connected({ reconnectPeriod: 1000 }, { rxSize: 32 }, { chunkSize });
    const got: string[] = [];
    c.on("message", (t: string) => got.push(t));
    let once = true;
    c.on("error", (e: any) => {
      if (e.code == 210 && once) {
        once = false;
        c.reconnect();
      }
    });
    broker.send({ cmd: "publish", topic: "big", payload: "B".repeat(500), qos: 0 });
    clock.flush();
    broker.expectPacket("connect", 2000);
    expect(broker.connections.length).toBe(2);
    expect(sim.connections[0].state).toBe("closed");
    broker.connack(0);
    broker.send({ cmd: "publish", topic: "new", payload: "n", qos: 0 });
    clock.flush();
    expect(c.connected).toBe(true);
    expect(got).toEqual(["new"]);
  });
});

describe("rx(): a packet collected over many chunks", () => {
  it("waits for the bytes it needs (`_w`): no header read again at every chunk (quadratic in a large rxSize)", () => {
    const body = "z".repeat(100000);
    const p = gen({ cmd: "publish", topic: "big/one", payload: body, qos: 0 });
    const ch: string[] = [];
    for (let i = 0; i < p.length; i += 1460) ch.push(p.slice(i, i + 1460));
    const c: any = connected({ reconnectPeriod: 0 }, { rxSize: p.length }).c;
    const got: string[] = [];
    c.on("message", (_t: string, pl: any) => got.push(text(pl)));
    const s = c._sock, reads: number[] = [], cca = String.prototype.charCodeAt;
    let n = 0;
    String.prototype.charCodeAt = function (this: string, i: number) {
      n++;
      return cca.call(this, i);
    };
    try {
      for (const x of ch) {
        n = 0;
        io(c, s, x);
        reads.push(n);
      }
    } finally {
      String.prototype.charCodeAt = cca;
    }
    expect(got).toEqual([body]);
    expect([c._a, c._w, c._k]).toEqual([0, 0, 0]);
    // The header is read in the first chunk and the packet in the last; in between, bytes are
    // only added to what is collected.
    expect(reads.slice(1, -1).every((r) => r == 0), String(reads.slice(0, 5))).toBe(true);
  });
});
