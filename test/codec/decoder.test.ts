// The streaming decoder: chunking, in-place versus assembled reporting, strict validation of every
// packet a server sends, and PUBLISH packets larger than the receive buffer.
import { describe, it, expect } from "vitest";
import { createDecoder, feed, resetDecoder, Err, St, T } from "../../src/codec";
import type { Decoder } from "../../src/codec";
import {
  hex,
  fromHex,
  latin1,
  snap,
  split,
  decodeChunks,
  expected,
  mqttGenerate,
  strict,
  guard,
  guardedFeed,
  concat,
  feedTarget,
  ESP,
} from "./helpers";
import type { Got, Chunk } from "./helpers";

const KINDS = ["u8", "str"] as const;

/** A stream of every packet type a server sends. */
const SERVER: any[] = [
  { cmd: "connack", sessionPresent: true, returnCode: 0 },
  { cmd: "publish", topic: "a/b", payload: Buffer.from("hi"), qos: 0 },
  { cmd: "publish", topic: "ü/😀", payload: Buffer.alloc(200, 0x5a), qos: 1, messageId: 7, dup: true },
  { cmd: "publish", topic: "t", payload: Buffer.alloc(20000, 1), qos: 2, messageId: 65535, retain: true },
  { cmd: "puback", messageId: 1 },
  { cmd: "pubrec", messageId: 2 },
  { cmd: "pubrel", messageId: 3 },
  { cmd: "pubcomp", messageId: 4 },
  { cmd: "suback", messageId: 5, granted: [0, 1, 2, 128] },
  { cmd: "unsuback", messageId: 6 },
  { cmd: "pingresp" },
];
const STREAM = concat(SERVER.map(mqttGenerate));
const WANT: Got[] = SERVER.map(expected);

function bytesAt(b: Uint8Array, step: number): number[] {
  const at: number[] = [];
  for (let i = step; i < b.length; i += step) at.push(i);
  return at;
}

/**
 * `h` (hex) must make the decoder fail with `code`, whole or byte by byte, as Uint8Array and as a
 * string, with no packet reported; a valid PINGRESP after it is not consumed, and every later feed
 * returns the same code without a callback.
 */
function rejects(h: string, code: number, size = 256) {
  const bad = fromHex(h);
  const pingresp = fromHex("d000");
  const all = concat([bad, pingresp]);
  for (const kind of KINDS)
    for (const at of [[], bytesAt(all, 1)]) {
      const got: Got[] = [];
      const d = guard(createDecoder(new Uint8Array(size), (x) => got.push(snap(x))));
      let rc = 0;
      for (const c of split(all, at, kind)) {
        const r = guardedFeed(d, c);
        if (rc) expect(r).toBe(rc);
        else rc = r;
      }
      expect(rc).toBe(code);
      expect(got).toEqual([]);
      expect(guardedFeed(d, pingresp)).toBe(code);
      expect(guardedFeed(d, "\xd0\x00")).toBe(code);
      expect(got).toEqual([]);
    }
}

describe("streaming", () => {
  it("decodes a stream fed one byte at a time, as Uint8Array and as 8-bit strings", () => {
    for (const kind of KINDS) {
      const r = decodeChunks(split(STREAM, bytesAt(STREAM, 1), kind), 32768);
      expect(r.rc).toBe(0);
      expect(r.packets).toEqual(WANT);
    }
  });

  it("decodes many packets from one chunk", () => {
    for (const kind of KINDS) {
      const r = decodeChunks(split(STREAM, [], kind), 32768);
      expect(r.rc).toBe(0);
      expect(r.packets).toEqual(WANT);
    }
  });

  it("decodes every two-way split of a stream, and chunks that alternate Uint8Array and string", () => {
    const small = concat(SERVER.filter((p) => !p.payload || p.payload.length < 300).map(mqttGenerate));
    const want = SERVER.filter((p) => !p.payload || p.payload.length < 300).map(expected);
    for (let i = 1; i < small.length; i++)
      for (const kind of [...KINDS, (j: number) => (j & 1 ? "str" : "u8") as "u8" | "str"]) {
        const r = decodeChunks(split(small, [i], kind), 512);
        expect(r.rc).toBe(0);
        expect(r.packets).toEqual(want);
      }
    for (const step of [3, 7, 1000])
      for (const kind of [(j: number) => (j & 1 ? "str" : "u8") as "u8" | "str", (j: number) => (j & 1 ? "u8" : "str") as "u8" | "str"]) {
        const r = decodeChunks(split(STREAM, bytesAt(STREAM, step), kind), 32768);
        expect(r.packets).toEqual(WANT);
      }
  });

  it("decodes a PUBLISH whose Remaining Length varint is split across chunks", () => {
    for (const n of [200, 20000, 3000000]) {
      const p = { cmd: "publish", topic: "t/x", payload: Buffer.alloc(n, 3), qos: 1, messageId: 9 };
      const b = concat([mqttGenerate(p), fromHex("d000")]);
      const lenBytes = n < 16384 ? 2 : n < 2097152 ? 3 : 4;
      for (let i = 1; i <= lenBytes + 1; i++)
        for (const kind of n < 100000 ? KINDS : (["u8"] as const)) {
          const r = decodeChunks(split(b, [i], kind), n + 100);
          expect(r.rc).toBe(0);
          expect(r.packets).toEqual([expected(p), { type: T.PINGRESP, flags: 0, id: 0 }]);
        }
    }
  });

  // Node only: Espruino sockets deliver strings, and its decoder build reads nothing else.
  it.skipIf(ESP)("reports a packet lying wholly inside a Uint8Array chunk in place: _d is the chunk, _o the body offset", () => {
    const b = new Uint8Array(4096);
    const seen: [Uint8Array, number, number, number][] = [];
    const d = createDecoder(b, (x) => seen.push([x._d, x._o, x._ts, x._ps]));
    const chunk = concat([fromHex("ffff"), mqttGenerate({ cmd: "publish", topic: "ab", payload: Buffer.from("xyz"), qos: 1, messageId: 2 }), fromHex("40020003ff")]);
    expect(feedTarget(d, chunk, 2, chunk.length - 1)).toBe(0);
    expect(seen).toEqual([
      [chunk, 4, 6, 10],
      [chunk, 15, 6, 10],
    ]);
    expect(seen[0][0]).toBe(chunk);
    expect(b.every((x) => x == 0)).toBe(true); // nothing copied
  });

  it.skipIf(ESP)("assembles a packet split across chunks, or fed as a string, in the receive buffer: _d is _buf, _o is 0", () => {
    const pkt = mqttGenerate({ cmd: "publish", topic: "ab", payload: Buffer.from("xyz"), qos: 1, messageId: 2 });
    for (const chunks of [split(pkt, [5], "u8"), [latin1(pkt)], split(pkt, [1, 2, 3], "str")]) {
      const b = new Uint8Array(64);
      const seen: Got[] = [];
      const d = createDecoder(b, (x) => {
        expect(x._d).toBe(b);
        expect(x._o).toBe(0);
        seen.push(snap(x));
      });
      for (const c of chunks) expect(feedTarget(d, c, 0, c.length)).toBe(0);
      expect(seen).toEqual([{ type: T.PUBLISH, flags: 2, id: 2, topic: "6162", payload: "78797a", big: false }]);
      expect(hex(b, 0, 9)).toBe(hex(pkt, 2));
    }
  });

  // Espruino builds: no receive buffer (a buffer holds its JsVars for good, a string only while a
  // packet is collected).
  it.runIf(ESP)("reads a packet inside one string chunk in place, and collects one split across chunks in a string: _d is that string, _o is 0", () => {
    const pkt = mqttGenerate({ cmd: "publish", topic: "ab", payload: Buffer.from("xyz"), qos: 1, messageId: 2 });
    const whole = latin1(pkt);
    for (const chunks of [[whole], split(pkt, [5], "str"), split(pkt, [1, 2, 3], "str")]) {
      const b = new Uint8Array(64);
      const seen: Got[] = [];
      const d = createDecoder(b, (x) => {
        if (chunks.length == 1) {
          expect(x._d).toBe(whole);
          expect(x._o).toBe(2);
        } else {
          expect(x._d).toBe(whole.substring(2));
          expect(x._o).toBe(0);
        }
        seen.push(snap(x));
      });
      for (const c of chunks) expect(feedTarget(d, c, 0, c.length)).toBe(0);
      expect(seen).toEqual([{ type: T.PUBLISH, flags: 2, id: 2, topic: "6162", payload: "78797a", big: false }]);
      expect(b.every((x) => x == 0)).toBe(true);
      expect((d as any)._acc || "").toBe(""); // nothing held between packets
    }
  });

  it("reads only bytes s..e of a chunk, Uint8Array or string", () => {
    const pkt = "d000" + "40020009";
    for (const kind of KINDS) {
      const junk = split(fromHex("3f3f3f" + pkt + "3f3f"), [], kind)[0];
      const r: Got[] = [];
      const d = createDecoder(new Uint8Array(16), (x) => r.push(snap(x)));
      expect(feedTarget(d, junk, 3, 3)).toBe(0);
      expect(feedTarget(d, junk, 3, 5)).toBe(0);
      expect(feedTarget(d, junk, 5, 9)).toBe(0);
      expect(r).toEqual([
        { type: T.PINGRESP, flags: 0, id: 0 },
        { type: T.PUBACK, flags: 0, id: 9 },
      ]);
    }
  });

  it("stops, returning 0, when the callback marks the decoder Dead (the client closing from a handler)", () => {
    const seen: number[] = [];
    const d: Decoder = createDecoder(new Uint8Array(16), (x) => {
      seen.push(x._id);
      x._st = St.Dead; // _err stays 0
    });
    expect(feedTarget(d, fromHex("400200014002000240020003"), 0, 12)).toBe(0);
    expect(seen).toEqual([1]);
    resetDecoder(d);
    expect(feedTarget(d, fromHex("40020004"), 0, 4)).toBe(0);
    expect(seen).toEqual([1, 4]);
  });
});

describe("strict validation of what a server sends", () => {
  it("rejects a Remaining Length longer than 4 bytes (201)", () => {
    rejects("30ffffffff01", Err.Length);
    rejects("30ffffffff7f", Err.Length);
    rejects("d080808080", Err.Length);
    rejects("4080808080", Err.Length);
  });

  it("rejects reserved fixed-header flag bits that are not as in Table 2.2 (202) [MQTT-2.2.2-2]", () => {
    for (const [t, body] of [[2, "020000"], [4, "020001"], [5, "020001"], [7, "020001"], [9, "03000100"], [11, "020001"], [13, "00"]] as const)
      for (let f = 1; f < 16; f++) rejects(((t << 4) | f).toString(16) + body, Err.Flags);
    for (let f = 0; f < 16; f++) if (f != 2) rejects((0x60 | f).toString(16) + "020001", Err.Flags);
  });

  it("rejects a PUBLISH with QoS 3 (202) [MQTT-3.3.1-4]", () => {
    for (const b of ["36", "37", "3e", "3f"]) rejects(b + "07000174" + "0001" + "7878", Err.Flags);
  });

  it("rejects a PUBLISH with DUP set on QoS 0 (202) [MQTT-3.3.1-2]", () => {
    for (const b of ["38", "39"]) rejects(b + "03000174", Err.Flags);
  });

  it("rejects packet types a server never sends (203): 0, CONNECT, SUBSCRIBE, UNSUBSCRIBE, PINGREQ, DISCONNECT, 15", () => {
    for (const t of [0, 1, 8, 10, 12, 14, 15])
      for (const f of [0, 2, 15]) rejects(((t << 4) | f).toString(16).padStart(2, "0") + "00", Err.Type);
  });

  it("rejects a CONNACK, ack, UNSUBACK, SUBACK or PINGRESP of the wrong length (204)", () => {
    for (const h of ["2000", "200100", "2003000000", "4000", "400101", "40030001ff", "5000", "620101", "7003000100", "b000", "b0030001ff", "9000", "90020001", "d00100", "d002ffff"])
      rejects(h, Err.Size);
  });

  it("rejects a PUBLISH too short to hold its topic length and packet id (204)", () => {
    rejects("30020001", Err.Size);
    rejects("3204000174ff", Err.Size);
    rejects("340400017400", Err.Size);
  });

  it("rejects a topic length running past the end of the PUBLISH (204)", () => {
    rejects("3005000961626364", Err.Size);
    rejects("3003ffff00", Err.Size);
    // QoS 1: the topic fills the packet, leaving no room for the packet id
    rejects("32050003616263", Err.Size);
    rejects("3206000361626300", Err.Size);
  });

  it("rejects packet identifier 0 (206) [MQTT-2.3.1-1]", () => {
    for (const h of ["3205000174" + "0000", "3406000174" + "000078", "40020000", "50020000", "62020000", "70020000", "9003000000", "b0020000"])
      rejects(h, Err.ZeroId);
  });

  it("rejects a CONNACK with reserved acknowledge flag bits set (207)", () => {
    for (const f of ["02", "80", "ff", "03"]) rejects("2002" + f + "00", Err.Connack);
  });

  it("rejects a CONNACK return code above 5 (207)", () => {
    for (const rc of ["06", "80", "ff"]) rejects("200200" + rc, Err.Connack);
  });

  it("accepts CONNACK return codes 0 to 5, with session present", () => {
    for (let rc = 0; rc <= 5; rc++)
      for (const sp of [0, 1]) {
        const h = "2002" + hex([sp, rc]);
        expect(decodeChunks(split(fromHex(h), [], "u8")).packets).toEqual([{ type: T.CONNACK, flags: 0, id: 0, connack: hex([sp, rc]) }]);
      }
  });

  it("rejects a SUBACK return code other than 0, 1, 2 or 0x80 (208) [MQTT-3.9.3-2]", () => {
    for (const c of ["03", "04", "7f", "81", "ff"]) {
      rejects("900300" + "01" + c, Err.Suback);
      rejects("900600" + "01" + "0001" + c + "80", Err.Suback);
    }
  });

  it("rejects a PUBLISH topic that is not well-formed UTF-8 (205) [MQTT-1.5.3-1, MQTT-3.3.2-1]", () => {
    for (const t of ["c3", "c328", "c080", "c1bf", "e08080", "eda080", "edbfbf", "f4908080", "f0808080", "f5808080", "f8", "ff", "80", "61e282", "e2"]) {
      const n = t.length / 2;
      rejects("30" + hex([n + 2]) + hex([0, n]) + t, Err.BadTopic);
      rejects("32" + hex([n + 4]) + hex([0, n]) + t + "0001", Err.BadTopic);
    }
  });

  it("rejects U+0000 in a PUBLISH topic (205) [MQTT-1.5.3-2, MQTT-4.7.3-2]", () => {
    rejects("3004000200" + "61", Err.BadTopic);
    rejects("30050003610062", Err.BadTopic);
  });

  it("rejects a wildcard in a PUBLISH topic (205) [MQTT-3.3.2-2, MQTT-4.7.1-1]", () => {
    for (const t of ["+", "#", "a/+", "a/#", "+/a"]) {
      const b = Buffer.from(t);
      rejects("30" + hex([b.length + 2]) + hex([0, b.length]) + b.toString("hex"), Err.BadTopic);
    }
  });

  it("rejects an empty PUBLISH topic (205) [MQTT-4.7.3-1]", () => {
    rejects("3003000041", Err.BadTopic);
    rejects("32050000000178", Err.BadTopic);
  });

  it("accepts any well-formed topic: 2-, 3- and 4-byte chars, U+FEFF kept as is [MQTT-1.5.3-3], '$', spaces, '/'", () => {
    for (const t of ["\uFEFF", "é", "€", "😀", "\u{10FFFF}", "\uD7FF", "\uE000", "$SYS/a b", "/", "a//b", "\u0001\u007F"]) {
      const p = { cmd: "publish", topic: t, payload: Buffer.alloc(0), qos: 0 };
      const r = decodeChunks([mqttGenerate(p)]);
      expect(r.rc).toBe(0);
      expect(r.packets).toEqual([expected(p)]);
    }
  });

  it("consumes nothing more after an error, even after a callback, until resetDecoder", () => {
    const got: Got[] = [];
    const d = createDecoder(new Uint8Array(64), (x) => got.push(snap(x)));
    const c = fromHex("40020001" + "50020000" + "d000");
    expect(feedTarget(d, c, 0, c.length)).toBe(Err.ZeroId);
    expect(got).toEqual([{ type: T.PUBACK, flags: 0, id: 1 }]);
    expect(feedTarget(d, "\xd0\x00", 0, 2)).toBe(Err.ZeroId);
    expect(feedTarget(d, c, 0, 4)).toBe(Err.ZeroId);
    expect(got.length).toBe(1);
    resetDecoder(d);
    expect(feedTarget(d, c, 0, 4)).toBe(0);
    expect(got).toEqual([{ type: T.PUBACK, flags: 0, id: 1 }, { type: T.PUBACK, flags: 0, id: 1 }]);
  });

  it("resetDecoder drops a half-read packet: the next connection's stream starts fresh", () => {
    const got: Got[] = [];
    const d = createDecoder(new Uint8Array(64), (x) => got.push(snap(x)));
    expect(feedTarget(d, "\x30\x10\x00\x01", 0, 4)).toBe(0);
    resetDecoder(d);
    expect(feedTarget(d, "\xd0\x00", 0, 2)).toBe(0);
    expect(got).toEqual([{ type: T.PINGRESP, flags: 0, id: 0 }]);
  });

  it("returns from every feed: each first two bytes of a packet, every buffer size, never throws and never stalls", () => {
    const tail = fromHex("000174" + "0001" + "00".repeat(12));
    const c = new Uint8Array(2 + tail.length);
    c.set(tail, 2);
    const codes = new Set<number>();
    for (const size of [2, 64])
      for (let b0 = 0; b0 < 256; b0++)
        for (let b1 = 0; b1 < 256; b1 += b0 >> 4 == 3 || b0 >> 4 == 9 ? 1 : 17) {
          c[0] = b0;
          c[1] = b1;
          for (const chunks of [[c], [latin1(c)], split(c, [1, 3], "u8")]) {
            const d = guard(createDecoder(strict(new Uint8Array(size)), () => {}));
            for (const x of chunks) {
              const rc = guardedFeed(d, x);
              if (rc) codes.add(rc);
            }
          }
        }
    for (const code of codes) expect(code >= 201 && code <= 209).toBe(true);
  });
});

describe("PUBLISH larger than the receive buffer", () => {
  const SIZE = 32;
  const big = { cmd: "publish", topic: "big/topic", payload: Buffer.alloc(100, 0xab), qos: 1, messageId: 0x0102, retain: true };
  const pub = mqttGenerate(big);
  const stream = concat([pub, fromHex("40020005"), fromHex("d000")]);
  const head: Got = { type: T.PUBLISH, flags: 3, id: 0x0102, topic: hex(Buffer.from("big/topic")), payload: "", big: true };
  const rest: Got[] = [
    { type: T.PUBACK, flags: 0, id: 5 },
    { type: T.PINGRESP, flags: 0, id: 0 },
  ];

  function run(chunks: Chunk[], size = SIZE) {
    const buf = new Uint8Array(size);
    const r = { packets: [] as Got[], rc: 0, buf };
    const d = guard(
      createDecoder(strict(buf), (x) => {
        const g = snap(x);
        if (g.big) expect([x._ps, x._pe]).toEqual([x._te + (x._flags & 6 ? 2 : 0), x._te + (x._flags & 6 ? 2 : 0)]);
        r.packets.push(g);
      })
    );
    for (const c of chunks) {
      const rc = guardedFeed(d, c);
      if (rc && !r.rc) r.rc = rc;
    }
    return r;
  }

  it("reports it once with _big, its QoS, packet id and topic, no payload, skips the rest, and decodes the next packet", () => {
    const r = run([latin1(stream)]);
    expect(r.rc).toBe(0);
    expect(r.packets).toEqual([head, ...rest]);
    // A buffer's worth of it was collected to find the topic and id; nothing past the buffer
    // (Espruino builds collect in a string, bounded the same way: the fuzzer checks it).
    if (!ESP) expect(r.buf.subarray(13).every((x) => x == 0xab)).toBe(true);
  });

  it("does so for a split at every point of the stream, Uint8Array and string chunks", () => {
    for (let i = 1; i < stream.length; i++)
      for (const kind of KINDS) {
        const r = run(split(stream, [i], kind));
        expect(r.rc).toBe(0);
        // The same whatever the chunking: a packet in one Uint8Array chunk is reported in place
        // only when the receive buffer could have held it.
        expect(r.packets).toEqual([head, ...rest]);
      }
  });

  it("does so fed one byte at a time, and at QoS 0 (no packet id)", () => {
    const q0 = { ...big, qos: 0, messageId: undefined, retain: false };
    const s0 = concat([mqttGenerate(q0), fromHex("d000")]);
    for (const kind of KINDS) {
      expect(run(split(stream, bytesAt(stream, 1), kind)).packets).toEqual([head, ...rest]);
      const r = run(split(s0, bytesAt(s0, 1), kind));
      expect(r.packets).toEqual([{ ...head, flags: 0, id: 0 }, rest[1]]);
    }
  });

  it("skips it also when one Uint8Array chunk holds all of it (what is received never depends on chunking)", () => {
    const r = run([stream]);
    expect(r.packets).toEqual([head, ...rest]);
  });

  it("refuses a SUBACK larger than the receive buffer also when one chunk holds it (209)", () => {
    const suback = mqttGenerate({ cmd: "suback", messageId: 7, granted: new Array(40).fill(1) });
    const r = run([suback]);
    expect(r.packets).toEqual([]);
    expect(r.rc).toBe(209);
  });

  it("accepts a topic and packet id that fill the receive buffer exactly", () => {
    const p = { ...big, topic: "x".repeat(SIZE - 4) };
    const r = run([latin1(mqttGenerate(p))]);
    expect(r.rc).toBe(0);
    expect(r.packets).toEqual([{ ...head, topic: hex(Buffer.from(p.topic)) }]);
  });

  it("rejects it (209) when even its topic and packet id do not fit the receive buffer", () => {
    for (const topic of ["x".repeat(SIZE - 3), "x".repeat(SIZE)]) {
      const r = run([latin1(mqttGenerate({ ...big, topic }))]);
      expect(r.rc).toBe(Err.TooLarge);
      expect(r.packets).toEqual([]);
    }
    expect(run([latin1(mqttGenerate({ ...big, qos: 0, topic: "x".repeat(SIZE - 1) }))]).rc).toBe(Err.TooLarge);
  });

  it("rejects it when its topic runs past its end (204), its topic is empty (205), ill-formed (205) or its id is 0 (206)", () => {
    expect(run(["\x32\x28\x00\x30" + "x".repeat(38)]).rc).toBe(Err.Size);
    expect(run(["\x30\x28\x00\x00" + "x".repeat(38)]).rc).toBe(Err.BadTopic);
    expect(run(["\x30\x28\x00\x02\xc3\x28" + "x".repeat(36)]).rc).toBe(Err.BadTopic);
    expect(run(["\x30\x28\x00\x02a+" + "x".repeat(36)]).rc).toBe(Err.BadTopic);
    expect(run(["\x32\x28\x00\x01a\x00\x00" + "x".repeat(35)]).rc).toBe(Err.ZeroId);
  });

  it("rejects (209) any other packet longer than the receive buffer", () => {
    const suback = mqttGenerate({ cmd: "suback", messageId: 1, granted: new Array(40).fill(1) });
    for (const chunks of [[latin1(suback)], split(suback, [2], "u8"), split(suback, [5], "u8"), split(suback, bytesAt(suback, 1), "str")]) {
      const r = run(chunks);
      expect(r.rc).toBe(Err.TooLarge);
      expect(r.packets).toEqual([]);
    }
  });

  it("accepts the largest Remaining Length, 268,435,455, as a skipped PUBLISH, without allocating it", () => {
    const r = { packets: [] as Got[] };
    const d = guard(createDecoder(strict(new Uint8Array(64)), (x) => r.packets.push(snap(x))));
    // 30 FF FF FF 7F: the 4-byte maximum; topic "test", then the first bytes of the payload: it is
    // reported once a buffer's worth of it has come.
    expect(guardedFeed(d, fromHex("30ffffff7f" + "000474657374" + "000000"))).toBe(0);
    expect(r.packets).toEqual([]);
    expect(guardedFeed(d, new Uint8Array(55))).toBe(0);
    expect(r.packets).toEqual([{ type: T.PUBLISH, flags: 0, id: 0, topic: "74657374", payload: "", big: true }]);
    // The rest of the payload, 1 MiB at a time, then a PINGRESP.
    const mib = new Uint8Array(1 << 20);
    let left = 268435455 - 6 - 3 - 55;
    while (left > 0) {
      const n = Math.min(left, mib.length);
      expect(guardedFeed(d, mib, 0, n)).toBe(0);
      left -= n;
    }
    expect(r.packets.length).toBe(1);
    expect(guardedFeed(d, "\xd0\x00")).toBe(0);
    expect(r.packets[1]).toEqual({ type: T.PINGRESP, flags: 0, id: 0 });
  });
});
