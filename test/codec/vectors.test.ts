// mqtt-packet's MQTT 3.1.1 (protocolVersion 4) vectors run against our codec (the vectors are in
// test/vectors/, from mqtt-packet 9.0.2's test suite; see the README there). A client encodes the
// packets a client sends and decodes the ones a server sends, so each vector is checked in the
// direction(s) a client codec has; the few that no call of ours can express are listed in SKIPPED.
import { describe, it, expect } from "vitest";
import { readFileSync } from "node:fs";
import { createDecoder, feed, encodePublish, Err } from "../../src/codec";
import {
  hex,
  fromHex,
  split,
  decodeChunks,
  expected,
  encodeLike,
  snap,
  strict,
  guard,
  guardedFeed,
} from "./helpers";
import type { Got } from "./helpers";

const load = (name: string) => JSON.parse(readFileSync(new URL(`../vectors/${name}`, import.meta.url), "utf8"));
const ALL: any[] = load("mqtt-packet.json");
const V4 = ALL.filter((v) => v.protocolVersion === 4);
const SEQ: any[] = load("mqtt-packet-sequences.json").tests;

/** Vectors no call of a client codec can express, with the reason. */
const SKIPPED: Record<string, string> = {
  "mqtt-packet/001": "generateError for a packet object without `cmd`: JS dynamic typing; our API has one function per packet type, so there is no 'unknown command' to pass",
  "mqtt-packet/012": "CONNECT with protocol name 'MQIsdp' and the bridge bit (level 0x84): mqttiny always sends 'MQTT' level 4; no option expresses MQTT 3.1 or bridge mode (and a server never sends CONNECT, so there is no decoder direction)",
  "mqtt-packet/077": "generateError for a CONNACK with returnCode '5' (a string): a client never encodes CONNACK, and the vector is about JS dynamic typing",
  "mqtt-packet/145": "generateError for CONNECT protocolVersion 1: mqttiny always writes level 4; there is no protocol version option to get wrong",
  "mqtt-packet/166": "generateError for cmd 'invalid' (writeToStream): JS dynamic typing; no such call exists in a function-per-packet API",
  "mqtt-packet/167": "generateError for protocolId {} (writeToStream): mqttiny has no protocolId option (always 'MQTT')",
  "mqtt-packet/173": "generateError for a SUBACK with messageId 'a': a client never encodes SUBACK (the decoder side of SUBACK is covered by 118 and 120)",
  "mqtt-packet/175": "generateError for an UNSUBACK with messageId 'a': a client never encodes UNSUBACK (the decoder side is covered by 068, 128 and 129)",
};

/** generateError vectors our encoders can express, with the code they must return. */
const GENERATE_ERROR: Record<string, number> = {
  "mqtt-packet/089": Err.TooBig, // Remaining Length 268,435,456
  "mqtt-packet/125": Err.Filter, // unsubscriptions: 5
  "mqtt-packet/126": Err.Filter, // unsubscriptions: [1, 2]
  "mqtt-packet/147": Err.Options, // no client id with clean session 0 [MQTT-3.1.3-7]
  "mqtt-packet/149": Err.Options, // keepalive 3.1416
  "mqtt-packet/168": Err.Options, // messageId 'a' on publish, and on the acks, subscribe, unsubscribe:
  "mqtt-packet/169": Err.Options,
  "mqtt-packet/170": Err.Options,
  "mqtt-packet/171": Err.Options,
  "mqtt-packet/172": Err.Options,
  "mqtt-packet/174": Err.Options,
};

const CLIENT = new Set(["connect", "publish", "puback", "pubrec", "pubrel", "pubcomp", "subscribe", "unsubscribe", "pingreq", "disconnect"]);
const SERVER = new Set(["connack", "publish", "puback", "pubrec", "pubrel", "pubcomp", "suback", "unsuback", "pingresp"]);

/** A stand-in for a payload too large to allocate: the encoders read only its length first. */
function payloadOf(p: any): any {
  if (p && p.fillLength) return { length: p.hex.length / 2 + p.fillLength };
  return p;
}

/** Decodes `bytes` whole and byte by byte, as Uint8Array and as string chunks. */
function decodeEveryWay(bytes: Uint8Array, check: (packets: Got[], rc: number) => void) {
  const each: number[] = [];
  for (let i = 1; i < bytes.length; i++) each.push(i);
  for (const kind of ["u8", "str"] as const)
    for (const at of [[], each]) {
      const r = decodeChunks(split(bytes, at, kind), 4096);
      check(r.packets, r.rc);
    }
}

const counts = { passed: 0, failed: 0, skipped: 0 };

/** The largest PUBLISH (vector 085) goes down the oversize path: reported with its topic, payload skipped. */
function maxPublish(v: any) {
  const packets: Got[] = [];
  const d = guard(createDecoder(strict(new Uint8Array(64)), (x) => packets.push(snap(x))));
  const bytes = fromHex(v.bytes);
  expect(guardedFeed(d, bytes)).toBe(0);
  const zeros = new Uint8Array(1 << 20);
  let left = v.bytesFill.count;
  expect(parseInt(v.bytesFill.byte, 16)).toBe(0);
  while (left > 0) {
    const n = Math.min(left, zeros.length);
    expect(guardedFeed(d, zeros, 0, n)).toBe(0);
    left -= n;
  }
  expect(guardedFeed(d, "\xd0\x00")).toBe(0);
  expect(packets).toEqual([
    { type: 3, flags: 0, id: 0, topic: hex(Buffer.from(v.packet.topic)), payload: "", big: true },
    { type: 13, flags: 0, id: 0 },
  ]);
  // Encoding it only needs room: its size is within what a Remaining Length can carry.
  const b = new Uint8Array(16).fill(0xee);
  expect(encodePublish(b, 0, v.packet.topic, payloadOf(v.packet.payload), 0, false, false, 0)).toBe(-Err.NoRoom);
  expect(b.every((x) => x == 0xee)).toBe(true);
}

describe("mqtt-packet vectors, MQTT 3.1.1 (protocolVersion 4)", () => {
  for (const v of V4) {
    const title = `${v.id} ${v.kind} ${v.cmd}: ${v.name}`;
    if (SKIPPED[v.id]) {
      it.skip(`${title} (skipped: ${SKIPPED[v.id]})`, () => {});
      counts.skipped++;
      continue;
    }
    it(title, () => {
      try {
        run(v);
        counts.passed++;
      } catch (e) {
        counts.failed++;
        throw e;
      }
    });
  }

  function run(v: any) {
    if (v.kind == "parseError") {
      const bytes = fromHex(v.bytes);
      decodeEveryWay(bytes, (packets, rc) => {
        expect(rc).toBeGreaterThanOrEqual(201);
        expect(rc).toBeLessThanOrEqual(209);
        expect(packets).toEqual([]);
      });
      // The six 'Invalid variable byte integer' vectors use a CONNECT header (refused as a type a
      // server never sends, 203); behind a PUBLISH header the same bytes are a 5-byte length (201).
      if (v.name == "Invalid variable byte integer") {
        bytes[0] = 0x30;
        decodeEveryWay(bytes, (packets, rc) => expect([rc, packets]).toEqual([Err.Length, []]));
      }
      return;
    }
    if (v.kind == "generateError") {
      const want = GENERATE_ERROR[v.id];
      expect(want, "every generateError vector is either in GENERATE_ERROR or SKIPPED").toBeDefined();
      const p = { ...v.packet, payload: payloadOf(v.packet.payload) };
      const b = new Uint8Array(512).fill(0xee);
      expect(encodeLike(b, p)).toBe(-want);
      expect(b.every((x) => x == 0xee)).toBe(true);
      return;
    }
    // parseGenerate, parseOnly, generateOnly: the packet and its bytes, in each direction we have.
    if (v.bytesFill) return maxPublish(v);
    let checked = 0;
    if (CLIENT.has(v.cmd)) {
      const b = new Uint8Array(4096);
      const e = encodeLike(b, v.packet);
      expect(e).toBeGreaterThan(0);
      expect(hex(b, 0, e)).toBe(v.bytes);
      checked++;
    }
    if (SERVER.has(v.cmd)) {
      decodeEveryWay(fromHex(v.bytes), (packets, rc) => {
        expect(rc).toBe(0);
        expect(packets).toEqual([expected(v.packet)]);
      });
      checked++;
    } else {
      // A packet only a client sends: the decoder refuses it from a server.
      decodeEveryWay(fromHex(v.bytes), (packets, rc) => expect([rc, packets]).toEqual([Err.Type, []]));
    }
    expect(checked).toBeGreaterThan(0);
  }

  it("accounts for every v4 vector: passed + skipped = 76", () => {
    expect(V4.length).toBe(76);
    for (const id of Object.keys(SKIPPED)) expect(V4.some((v) => v.id == id)).toBe(true);
    expect(counts.skipped).toBe(Object.keys(SKIPPED).length);
    console.log(`mqtt-packet v4 vectors: passed ${counts.passed}, skipped ${counts.skipped}, failed ${counts.failed}, total ${V4.length}`);
    expect(counts.passed + counts.skipped).toBe(V4.length);
  });
});

/** Sequences that do not apply to a client codec, with the reason. */
const SEQ_SKIPPED: Record<string, string> = {
  "cacheNumbers get/set/unset": "mqtt-packet's internal number cache; no steps",
  "disabled numbers cache": "writeToStream with a Buffer topic and mqtt-packet's cache switched off; the same PUBLISH is vector 078",
  "support cork": "writeToStream corking of an MQTT 3.1 ('MQIsdp') CONNECT; no such option",
  "Cannot parse property code type": "MQTT 5 CONNECT and PUBREL properties",
  "userProperties null prototype": "MQTT 5 CONNECT with properties",
  "undefined properties": "MQTT 5 CONNECT with properties",
  "stops parsing after first error": "a stream of CONNECT and SUBSCRIBE, packets a server never sends; and mqtt-packet carries on after an error where our decoder stays Dead (decoder.test.ts covers that)",
};

describe("mqtt-packet sequences (split parsing)", () => {
  const ran: string[] = [];
  for (const t of SEQ) {
    if (SEQ_SKIPPED[t.name]) {
      it.skip(`${t.name} (skipped: ${SEQ_SKIPPED[t.name]})`, () => {});
      continue;
    }
    it(t.name, () => {
      const parses = t.steps.filter((s: any) => s.op == "parse").map((s: any) => fromHex(s.bytes));
      const packets = t.steps.filter((s: any) => s.event == "packet").map((s: any) => s.packet);
      const events = packets.map(expected);
      const generates = t.steps.filter((s: any) => s.op == "generate");
      expect(parses.length + generates.length).toBeGreaterThan(0);
      if (parses.length)
        for (const kind of ["u8", "str"] as const) {
          const chunks = parses.map((b: Uint8Array) => split(b, [], kind)[0]);
          const r = decodeChunks(chunks, 4096);
          expect(r.rc).toBe(0);
          expect(r.packets).toEqual(events);
          // The same stream with an 8-byte receive buffer: a longer PUBLISH split across chunks
          // is reported with its head, the payload skipped.
          const small = decodeChunks(chunks, 8);
          expect(small.rc).toBe(0);
          expect(small.packets).toEqual(events.map((g: Got, i: number) => (packets[i].length > 8 ? { ...g, payload: "", big: true } : g)));
        }
      for (const g of generates) {
        const b = new Uint8Array(256);
        const e = encodeLike(b, g.packet);
        expect(hex(b, 0, e)).toBe(g.bytes);
      }
      ran.push(t.name);
    });
  }

  it("accounts for every sequence", () => {
    expect(ran.length + Object.keys(SEQ_SKIPPED).length).toBe(SEQ.length);
    console.log(`mqtt-packet sequences: ${SEQ.length} total, ${ran.length} run, ${Object.keys(SEQ_SKIPPED).length} skipped`);
  });
});
