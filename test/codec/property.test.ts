// Differential property tests against mqtt-packet, and a decoder fed garbage through buffers that
// throw on any index outside them.
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { createDecoder, encodePublish, publishSize, T } from "../../src/codec";
import type { Decoder } from "../../src/codec";
import { ESP, str, hex, split, concat, decodeChunks, expected, encodeLike, mqttGenerate, mqttParse, snap, strict, guard, guardedFeed, latin1 } from "./helpers";
import type { Got, Chunk } from "./helpers";

const RUNS = 400;

// ---- generators, in mqtt-packet's object model ----

/** One char: mostly ASCII and '/', some 2-, 3- and 4-byte UTF-8. */
const char = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("a", "b", "/", "$", " ", "0", "~") },
  { weight: 2, arbitrary: fc.constantFrom("é", "ß", "€", "\uFEFF", "😀", "\u{10FFFF}", "\u0001") },
  { weight: 2, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 }) }
);
const noWild = (s: string) => !/[+#\u0000]/.test(s);
const topicName = fc.string({ unit: char, minLength: 1, maxLength: 24 }).filter(noWild);
const level = fc.string({ unit: char, maxLength: 6 }).filter((s) => noWild(s) && !s.includes("/"));
const topicFilter = fc
  .tuple(fc.array(fc.oneof(level, fc.constant("+")), { minLength: 1, maxLength: 4 }), fc.boolean())
  .map(([levels, hash]) => (hash ? [...levels, "#"] : levels).join("/"))
  .filter((f) => f.length > 0);
const id = fc.integer({ min: 1, max: 65535 });
const qos = fc.constantFrom(0, 1, 2);
const bytes = (max: number) => fc.uint8Array({ maxLength: max }).map((b) => Buffer.from(b));

/** A string payload as this target's encoder takes it, and the bytes it stands for. */
const stringPayload = ESP
  ? fc.uint8Array({ maxLength: 40 }).map((b) => ({ ours: latin1(b), wire: Buffer.from(b) }))
  : fc
      .string({ unit: fc.oneof(char, fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c))), maxLength: 20 })
      .map((s) => ({ ours: s, wire: Buffer.from(s, "utf8") })); // lone surrogates become U+FFFD, as Buffer writes them

const publish = fc
  .record({ topic: topicName, payload: bytes(300), qos, retain: fc.boolean(), dup: fc.boolean(), messageId: id })
  .map((p) => ({ cmd: "publish", ...p, dup: p.qos > 0 && p.dup, messageId: p.qos ? p.messageId : undefined }));

const subscribe = fc
  .record({ messageId: id, subs: fc.array(fc.record({ topic: topicFilter, qos }), { minLength: 1, maxLength: 5 }) })
  .map((p) => ({ cmd: "subscribe", messageId: p.messageId, subscriptions: p.subs }));

const unsubscribe = fc
  .record({ messageId: id, unsubscriptions: fc.array(topicFilter, { minLength: 1, maxLength: 5 }) })
  .map((p) => ({ cmd: "unsubscribe", ...p }));

const connect = fc
  .record({
    clientId: fc.oneof(fc.constant(""), fc.string({ unit: char, maxLength: 23 }).filter((s) => !s.includes("\u0000"))),
    clean: fc.boolean(),
    keepalive: fc.integer({ min: 0, max: 65535 }),
    will: fc.option(fc.record({ topic: topicName, payload: bytes(40), qos, retain: fc.boolean() }), { nil: undefined }),
    username: fc.option(fc.string({ unit: char, maxLength: 12 }).filter((s) => !s.includes("\u0000")), { nil: undefined }),
    password: fc.option(bytes(20), { nil: undefined }),
  })
  .map((c) => ({
    cmd: "connect",
    protocolId: "MQTT",
    protocolVersion: 4,
    ...c,
    clean: c.clean || c.clientId === "", // [MQTT-3.1.3-7]
    password: c.username === undefined ? undefined : c.password, // [MQTT-3.1.2-22]
  }));

const ack = fc.record({ cmd: fc.constantFrom("puback", "pubrec", "pubrel", "pubcomp"), messageId: id });

const serverPacket = fc.oneof(
  { weight: 4, arbitrary: publish },
  { weight: 3, arbitrary: ack },
  { weight: 1, arbitrary: fc.record({ cmd: fc.constant("connack"), sessionPresent: fc.boolean(), returnCode: fc.integer({ min: 0, max: 5 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({ cmd: fc.constant("suback"), messageId: id, granted: fc.array(fc.constantFrom(0, 1, 2, 128), { minLength: 1, maxLength: 8 }) }),
  },
  { weight: 1, arbitrary: fc.record({ cmd: fc.constant("unsuback"), messageId: id }) },
  { weight: 1, arbitrary: fc.constant({ cmd: "pingresp" }) }
);

/** Sorted distinct split points inside 1..len-1 from random numbers in [0, 1). */
function cuts(len: number, r: number[]): number[] {
  return len < 2 ? [] : [...new Set(r.map((x) => 1 + Math.floor(x * (len - 1))))].sort((a, b) => a - b);
}
const splits = fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { maxLength: 12 });
const kinds = fc.array(fc.boolean(), { minLength: 13, maxLength: 13 });

// ---- encoders against mqtt-packet ----

describe("encoders against mqtt-packet's generate", () => {
  function same(p: any) {
    const b = new Uint8Array(4096);
    const e = encodeLike(b, p);
    expect(e).toBeGreaterThan(0);
    expect(hex(b, 0, e)).toBe(hex(mqttGenerate(p)));
  }

  it("encodes random PUBLISH packets (UTF-8 topics with 4-byte chars, binary payloads, QoS, DUP, RETAIN, id) to identical bytes, of publishSize bytes", () => {
    fc.assert(
      fc.property(publish, (p) => {
        same(p);
        expect(publishSize(str(p.topic), p.payload, p.qos)).toBe(mqttGenerate(p).length);
      }),
      { numRuns: RUNS }
    );
  });

  it("encodes random PUBLISH packets with string payloads to identical bytes", () => {
    fc.assert(
      fc.property(publish, stringPayload, (p, s) => {
        const ours = new Uint8Array(4096);
        const n = encodePublish(ours, 0, str(p.topic), s.ours, p.qos, p.retain, p.dup, p.messageId as number);
        expect(n).toBeGreaterThan(0);
        expect(hex(ours, 0, n)).toBe(hex(mqttGenerate({ ...p, payload: s.wire })));
      }),
      { numRuns: RUNS }
    );
  });

  it("encodes random SUBSCRIBE packets (several filters, QoS each) to identical bytes [MQTT-3.8.1-1]", () => {
    fc.assert(fc.property(subscribe, same), { numRuns: RUNS });
  });

  it("encodes random UNSUBSCRIBE packets to identical bytes [MQTT-3.10.1-1]", () => {
    fc.assert(fc.property(unsubscribe, same), { numRuns: RUNS });
  });

  it("encodes random CONNECT packets (will, user name, password, clean, keepalive) to identical bytes [MQTT-3.1.3-1]", () => {
    fc.assert(fc.property(connect, same), { numRuns: RUNS });
  });

  it("encodes random PUBACK, PUBREC, PUBREL and PUBCOMP to identical bytes [MQTT-3.6.1-1]", () => {
    fc.assert(fc.property(ack, same), { numRuns: 200 });
  });
});

// ---- decoder against mqtt-packet ----

describe("decoder against mqtt-packet's generate", () => {
  it("decodes random server packets built by mqtt-packet to the same fields, as Uint8Array and as string", () => {
    fc.assert(
      fc.property(serverPacket, (p) => {
        const b = mqttGenerate(p);
        for (const kind of ["u8", "str"] as const) {
          const r = decodeChunks(split(b, [], kind), 1024);
          expect(r.rc).toBe(0);
          expect(r.packets).toEqual([expected(p)]);
        }
      }),
      { numRuns: RUNS }
    );
  });

  it("decodes every random split of a stream of random packets, chunks of either kind, to the same sequence", () => {
    fc.assert(
      fc.property(fc.array(serverPacket, { minLength: 1, maxLength: 8 }), splits, kinds, (ps, r, k) => {
        const stream = concat(ps.map(mqttGenerate));
        const chunks = split(stream, cuts(stream.length, r), (i) => (k[i] ? "str" : "u8"));
        const got = decodeChunks(chunks, 4096);
        expect(got.rc).toBe(0);
        expect(got.packets).toEqual(ps.map(expected));
      }),
      { numRuns: RUNS }
    );
  });

  it("with a small receive buffer, reports each PUBLISH that does not fit as its head (_big) or refuses it (209), whatever the chunking", () => {
    fc.assert(
      fc.property(fc.array(serverPacket, { minLength: 1, maxLength: 6 }), splits, kinds, fc.integer({ min: 4, max: 80 }), (ps, r, k, size) => {
        const parts = ps.map(mqttGenerate);
        const stream = concat(parts);
        const at = cuts(stream.length, r);
        const kindOf = (i: number) => (k[i] ? "str" : "u8") as "str" | "u8";
        const want: Got[] = [];
        let wantRc = 0;
        let o = 0;
        for (let i = 0; i < ps.length && !wantRc; i++) {
          const pkt = parts[i], p = ps[i] as any;
          let h = 1;
          while (pkt[h] & 128) h++;
          h++; // header bytes
          const n = pkt.length - h;
          if (n <= size) want.push(expected(p));
          else if (p.cmd != "publish") wantRc = 209;
          else if (2 + Buffer.byteLength(p.topic) + (p.qos ? 2 : 0) > size) wantRc = 209;
          else want.push({ ...expected(p), payload: "", big: true });
          o += pkt.length;
        }
        const got = decodeChunks(split(stream, at, kindOf), size);
        expect(got.packets).toEqual(want);
        expect(got.rc).toBe(wantRc);
      }),
      { numRuns: RUNS }
    );
  });
});

// ---- garbage ----

describe("decoder fed garbage", () => {
  const ERR = new Set([201, 202, 203, 204, 205, 206, 207, 208, 209]);

  /** A valid stream with 1 to 3 bytes overwritten, inserted or removed. */
  const mutation = fc.tuple(
    fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
    fc.integer({ min: 0, max: 255 }),
    fc.constantFrom("set", "set", "insert", "delete")
  );
  const mutated = fc
    .tuple(fc.array(serverPacket, { minLength: 1, maxLength: 5 }), fc.array(mutation, { minLength: 1, maxLength: 3 }))
    .map(([ps, muts]) => {
      const b = Array.from(concat(ps.map(mqttGenerate)));
      for (const [x, v, op] of muts) {
        const i = Math.floor(x * b.length);
        if (op == "set") b[i] = v;
        else if (op == "insert") b.splice(i, 0, v);
        else b.splice(i, 1);
      }
      return new Uint8Array(b);
    });
  /** Random bytes, or (more often) a mutated valid stream. */
  const garbage = fc.oneof({ weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }) }, { weight: 4, arbitrary: mutated });

  it("never throws, never indexes outside its buffers, never stalls, and ends in packets or one malformed-packet error", () => {
    fc.assert(
      fc.property(garbage, splits, kinds, fc.integer({ min: 2, max: 300 }), (g, r, k, size) => {
        const buf = strict(new Uint8Array(size));
        const chunks = split(g, cuts(g.length, r), (i) => (k[i] ? "str" : "u8")).map((c) => (typeof c == "string" ? c : strict(c)));
        let current: Chunk = "";
        let rc = 0;
        let after = 0;
        const d = guard(
          createDecoder(buf, (x: Decoder) => {
            if (rc) after++;
            const p = x._d;
            // (Espruino builds: the chunk, or the string a body spanning chunks was collected in, at
            // most a receive buffer's worth.)
            expect(p === buf || p === current || (ESP && typeof p == "string" && p.length <= buf.length)).toBe(true);
            const len = p.length;
            const inside = (v: number) => Number.isInteger(v) && v >= 0 && v <= len;
            expect(inside(x._o)).toBe(true);
            if (x._type == T.PUBLISH) {
              expect([x._ts, x._te, x._ps, x._pe].every(inside)).toBe(true);
              expect(x._o + 2 == x._ts && x._ts < x._te && x._te <= x._ps && x._ps <= x._pe).toBe(true);
              expect(x._ps - x._te).toBe(x._flags & 6 ? 2 : 0);
              if (x._big) expect(x._pe).toBe(x._ps);
            } else if (x._type == T.SUBACK) {
              expect([x._ps, x._pe].every(inside)).toBe(true);
              expect(x._ps == x._o + 2 && x._ps < x._pe).toBe(true);
            } else expect(inside(x._o + (x._type == T.PINGRESP ? 0 : 2))).toBe(true);
            snap(x); // reads every reported byte through the strict buffers
          })
        );
        for (const c of chunks) {
          current = c;
          const res = guardedFeed(d, c);
          if (rc) expect(res).toBe(rc);
          else if (res) {
            expect(ERR.has(res)).toBe(true);
            rc = res;
          }
        }
        expect(after).toBe(0);
      }),
      { numRuns: 600 }
    );
  });

  it("whatever it accepts whole, mqtt-packet parses to the same fields", () => {
    fc.assert(
      fc.property(garbage, (g) => {
        const ours = decodeChunks([g], 1 << 16);
        if (ours.rc || !ours.packets.length) return;
        // Only when the stream ends on a packet boundary: mqtt-packet must agree on every packet.
        const theirs = mqttParse(g);
        if (theirs.packets.length != ours.packets.length) return; // a trailing partial packet
        expect(theirs.error).toBeUndefined();
        expect(ours.packets).toEqual(theirs.packets.map(expected));
      }),
      { numRuns: 600 }
    );
  });
});
