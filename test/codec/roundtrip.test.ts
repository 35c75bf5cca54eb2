// Every packet type through the encoders (client packets, checked against mqtt-packet's bytes and
// parsed back by mqtt-packet) and through the decoder (server packets built by mqtt-packet).
import { describe, it, expect } from "vitest";
import {
  encodeConnect,
  encodePublish,
  encodeAck,
  encodeEmpty,
  encodeSubscribe,
  publishIdOffset,
  publishSize,
  Err,
  T,
  createDecoder,
  feed,
} from "../../src/codec";
import type { ConnectFields } from "../../src/codec";
import { ESP, hex, str, utf8, fromHex, mqttGenerate, mqttParse, decodeChunks, expected, latin1, split } from "./helpers";

/** Encodes into a roomy buffer and returns the bytes as hex, or the negative code as a number. */
function enc(f: (b: Uint8Array, o: number) => number): string | number {
  const b = new Uint8Array(70000);
  const e = f(b, 0);
  return e < 0 ? e : hex(b, 0, e);
}

/**
 * The packet `f` encodes needs `size` bytes at offset `o`: every shorter buffer gets NoRoom with
 * not one byte changed, and the exact size succeeds.
 */
function checkNoRoom(f: (b: Uint8Array, o: number) => number) {
  const probe = new Uint8Array(70000);
  const size = f(probe, 0);
  expect(size).toBeGreaterThan(0);
  for (const o of [0, 3]) {
    for (let len = 0; len < o + size; len++) {
      const b = new Uint8Array(len).fill(0xee);
      expect(f(b, o)).toBe(-Err.NoRoom);
      expect(b.every((x) => x == 0xee)).toBe(true);
    }
    const b = new Uint8Array(o + size).fill(0xee);
    expect(f(b, o)).toBe(o + size);
    expect(b.subarray(0, o).every((x) => x == 0xee)).toBe(true);
    expect(hex(b, o)).toBe(hex(probe, 0, size));
  }
}

/** A stand-in for a payload too large to allocate: the encoders only read its length first. */
function hugePayload(n: number): Uint8Array {
  return { length: n } as unknown as Uint8Array;
}

describe("CONNECT encoder", () => {
  const base = { clientId: "dev-1", clean: true, keepalive: 60 };

  it("sets the CONNECT flags for every combination of will QoS/retain, user name, password, clean session and keepalive, as mqtt-packet does [MQTT-3.1.2-9, MQTT-3.1.2-11, MQTT-3.1.2-13, MQTT-3.1.2-15, MQTT-3.1.2-18, MQTT-3.1.2-19, MQTT-3.1.2-20, MQTT-3.1.2-21, MQTT-3.1.3-1]", () => {
    const wills = [null, ...[0, 1, 2].flatMap((qos) => [false, true].map((retain) => ({ qos, retain })))];
    const creds = [{}, { username: "üser" }, { username: "üser", password: "pä\u0000ss" }, { username: "", password: "" }];
    let n = 0;
    for (const w of wills)
      for (const cr of creds as any[])
        for (const clean of [false, true])
          for (const keepalive of [0, 60, 65535]) {
            const mp: any = { cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId: "cliént-1", clean, keepalive };
            const ours: ConnectFields = { clientId: str("cliént-1"), clean, keepalive };
            if (w) {
              mp.will = { topic: "will/tøpic", payload: Buffer.from([0, 1, 0xff]), qos: w.qos, retain: w.retain };
              ours.will = { topic: str("will/tøpic"), payload: new Uint8Array([0, 1, 0xff]), qos: w.qos, retain: w.retain };
            }
            if (cr.username != null) {
              mp.username = cr.username;
              ours.username = str(cr.username);
            }
            if (cr.password != null) {
              mp.password = Buffer.from(cr.password, "utf8");
              ours.password = new Uint8Array(Buffer.from(cr.password, "utf8"));
            }
            const b = new Uint8Array(300);
            const e = encodeConnect(b, 0, ours);
            expect(e).toBeGreaterThan(0);
            expect(hex(b, 0, e)).toBe(hex(mqttGenerate(mp)));
            // The connect flags byte: 2-byte fixed header, 00 04 "MQTT", level 4.
            expect(hex(b, 2, 9)).toBe("00044d51545404");
            const flags = b[9];
            expect(flags & 1).toBe(0); // reserved [MQTT-3.1.2-3]
            expect(!!(flags & 2)).toBe(clean);
            expect(!!(flags & 4)).toBe(!!w);
            expect((flags >> 3) & 3).toBe(w ? w.qos : 0);
            expect(!!(flags & 32)).toBe(!!(w && w.retain));
            expect(!!(flags & 128)).toBe(cr.username != null);
            expect(!!(flags & 64)).toBe(cr.password != null);
            expect((b[10] << 8) | b[11]).toBe(keepalive);
            const parsed = mqttParse(b.subarray(0, e));
            expect(parsed.error).toBeUndefined();
            const p = parsed.packets[0];
            expect(p.clientId).toBe("cliént-1");
            expect(p.clean).toBe(clean);
            expect(p.keepalive).toBe(keepalive);
            if (w) {
              expect(p.will.topic).toBe("will/tøpic");
              expect(hex(p.will.payload)).toBe("0001ff");
            } else expect(p.will).toBeUndefined();
            expect(p.username).toBe(cr.username);
            if (cr.password != null) expect(Buffer.from(p.password).toString("utf8")).toBe(cr.password);
            n++;
          }
    expect(n).toBe(7 * 4 * 2 * 3);
  });

  it("accepts an empty client id with clean session [MQTT-3.1.3-7]", () => {
    expect(enc((b, o) => encodeConnect(b, o, { clientId: "", clean: true, keepalive: 30 }))).toBe(
      "100c00044d5154540402001e0000"
    );
  });

  it("refuses an empty client id without clean session [MQTT-3.1.3-7]", () => {
    expect(enc((b, o) => encodeConnect(b, o, { clientId: "", clean: false, keepalive: 30 }))).toBe(-Err.Options);
  });

  it("refuses a password without a user name [MQTT-3.1.2-22]", () => {
    expect(enc((b, o) => encodeConnect(b, o, { ...base, password: "secret" }))).toBe(-Err.Options);
    expect(enc((b, o) => encodeConnect(b, o, { ...base, username: null, password: new Uint8Array(1) }))).toBe(-Err.Options);
  });

  it("refuses will QoS 3 [MQTT-3.1.2-14]", () => {
    expect(enc((b, o) => encodeConnect(b, o, { ...base, will: { topic: "w", qos: 3 } }))).toBe(-Err.Qos);
    expect(enc((b, o) => encodeConnect(b, o, { ...base, will: { topic: "w", qos: -1 } }))).toBe(-Err.Qos);
  });

  it("refuses a will topic that is not a valid topic name [MQTT-3.1.3-10, MQTT-4.7.1-1, MQTT-4.7.3-1]", () => {
    for (const topic of ["", "a/+", "a/#", "a\u0000b"])
      expect(enc((b, o) => encodeConnect(b, o, { ...base, will: { topic, payload: "x" } }))).toBe(-Err.Topic);
  });

  it("refuses a will message over 65,535 bytes", () => {
    const will = { topic: "w", payload: new Uint8Array(65536) };
    expect(enc((b, o) => encodeConnect(b, o, { ...base, will }))).toBe(-Err.TooBig);
    const ok = enc((b, o) => encodeConnect(b, o, { ...base, will: { topic: "w", payload: new Uint8Array(65535) } }));
    expect(typeof ok).toBe("string");
  });

  it("refuses a client id or user name that is not a valid MQTT UTF-8 string [MQTT-3.1.3-4, MQTT-3.1.3-11, MQTT-1.5.3-2]", () => {
    const bad = ESP ? ["a\u0000", "\xC3", "\xED\xA0\x80", "\u0100"] : ["a\u0000", "\uD800", "x\uDC00y"];
    for (const s of bad) {
      expect(enc((b, o) => encodeConnect(b, o, { ...base, clientId: s }))).toBe(-Err.String);
      expect(enc((b, o) => encodeConnect(b, o, { ...base, username: s }))).toBe(-Err.String);
    }
    expect(enc((b, o) => encodeConnect(b, o, { ...base, clientId: "x".repeat(65536) }))).toBe(-Err.String);
  });

  it("refuses a keepalive outside 0..65535", () => {
    for (const keepalive of [-1, 65536, NaN, Infinity])
      expect(enc((b, o) => encodeConnect(b, o, { ...base, keepalive }))).toBe(-Err.Options);
  });

  it("refuses a keepalive that is not a whole number of seconds (it would be sent truncated)", () => {
    // mqtt-packet throws "Invalid keepalive" for 3.1416 (vector mqtt-packet/149).
    expect(enc((b, o) => encodeConnect(b, o, { ...base, keepalive: 3.1416 }))).toBe(-Err.Options);
  });

  it("writes a binary password byte for byte, 00 and FF included", () => {
    const r = enc((b, o) => encodeConnect(b, o, { clientId: "c", clean: true, keepalive: 0, username: "u", password: new Uint8Array([0, 0xff]) }));
    expect(r).toBe("101400044d51545404c200000001630001750002" + "00ff");
  });

  it("writes nothing and returns NoRoom (-109) when the CONNECT does not fit", () => {
    checkNoRoom((b, o) =>
      encodeConnect(b, o, { clientId: "c", clean: false, keepalive: 5, will: { topic: "w", payload: "bye", qos: 1, retain: true }, username: "u", password: "p" })
    );
  });
});

describe("PUBLISH encoder", () => {
  it("encodes QoS 0, 1 and 2 with DUP, RETAIN and the packet id as mqtt-packet does, and mqtt-packet parses them back", () => {
    for (const qos of [0, 1, 2])
      for (const dup of qos ? [false, true] : [false])
        for (const retain of [false, true])
          for (const id of qos ? [1, 258, 65535] : [0]) {
            const payload = new Uint8Array([0, 1, 2, 0xfe, 0xff]);
            const b = new Uint8Array(64);
            const e = encodePublish(b, 0, str("a/b/ç"), payload, qos, retain, dup, id);
            const mp = { cmd: "publish", topic: "a/b/ç", payload: Buffer.from(payload), qos, dup, retain, messageId: qos ? id : undefined };
            expect(hex(b, 0, e)).toBe(hex(mqttGenerate(mp)));
            expect(b[0]).toBe(0x30 | (dup ? 8 : 0) | (qos << 1) | (retain ? 1 : 0));
            const p = mqttParse(b.subarray(0, e)).packets[0];
            expect([p.topic, p.qos, p.dup, p.retain, p.messageId, hex(p.payload)]).toEqual([
              "a/b/ç", qos, dup, retain, qos ? id : undefined, "000102feff",
            ]);
          }
  });

  it("has no packet identifier at QoS 0 [MQTT-2.3.1-5]", () => {
    expect(enc((b, o) => encodePublish(b, o, "t", "x", 0, false, false, 77))).toBe("3004000174" + "78");
  });

  it("encodes a null, undefined or empty payload as no bytes", () => {
    for (const p of [null, undefined, "", new Uint8Array(0)])
      expect(enc((b, o) => encodePublish(b, o, "t", p, 1, false, false, 1))).toBe("3205000174" + "0001");
  });

  it("refuses a topic name with '+' or '#' [MQTT-3.3.2-2, MQTT-4.7.1-1]", () => {
    for (const t of ["+", "#", "a/+", "a/#", "a+b", "a#"])
      expect(enc((b, o) => encodePublish(b, o, t, "x", 0, false, false, 0))).toBe(-Err.Topic);
  });

  it("refuses an empty topic name [MQTT-4.7.3-1]", () => {
    expect(enc((b, o) => encodePublish(b, o, "", "x", 1, false, false, 1))).toBe(-Err.Topic);
  });

  it("refuses U+0000 in a topic name [MQTT-4.7.3-2, MQTT-1.5.3-2]", () => {
    expect(enc((b, o) => encodePublish(b, o, "a\u0000b", "x", 0, false, false, 0))).toBe(-Err.Topic);
  });

  it("refuses a topic name over 65,535 bytes, counting UTF-8 bytes [MQTT-4.7.3-3]", () => {
    expect(enc((b, o) => encodePublish(b, o, "a".repeat(65536), "", 0, false, false, 0))).toBe(-Err.Topic);
    // 32,768 chars of 2 bytes each on Node: 65,536 bytes.
    expect(enc((b, o) => encodePublish(b, o, str("é".repeat(32768)), "", 0, false, false, 0))).toBe(-Err.Topic);
    const ok = enc((b, o) => encodePublish(b, o, "a".repeat(65535), "", 0, false, false, 0)) as string;
    expect(ok.slice(0, 12)).toBe("30818004" + "ffff"); // Remaining Length 65,537 in 3 bytes
  });

  if (!ESP) {
    it("refuses a lone surrogate in a topic name [MQTT-1.5.3-1]", () => {
      for (const t of ["a\uD800", "\uDC00", "a\uDC00\uD800b", "\uD83D"])
        expect(enc((b, o) => encodePublish(b, o, t, "x", 0, false, false, 0))).toBe(-Err.Topic);
    });

    it("encodes a surrogate pair as one 4-byte UTF-8 char [MQTT-1.5.3-1]", () => {
      expect(enc((b, o) => encodePublish(b, o, "a\uD83D\uDE00", "", 0, false, false, 0))).toBe("3007" + "0005" + "61f09f9880");
      expect(enc((b, o) => encodePublish(b, o, "\u{10FFFF}\u0800\u07FF\u0080", "", 0, false, false, 0))).toBe(
        "300d" + "000b" + "f48fbfbf" + "e0a080" + "dfbf" + "c280"
      );
    });

    it("encodes a string payload as UTF-8, a lone surrogate as U+FFFD as Buffer does, and keeps U+0000", () => {
      expect(enc((b, o) => encodePublish(b, o, "t", "é\u0000\uD800😀", 0, false, false, 0))).toBe(
        "300d000174" + utf8("é\u0000\uFFFD😀")
      );
    });
  } else {
    it("writes the chars of a byte-string topic as bytes and never re-encodes them", () => {
      // "\xC3\xA9" is the UTF-8 of é: two bytes, not four.
      expect(enc((b, o) => encodePublish(b, o, "\xC3\xA9", "", 0, false, false, 0))).toBe("3004" + "0002c3a9");
      expect(enc((b, o) => encodePublish(b, o, "\xF0\x9F\x98\x80", "", 0, false, false, 0))).toBe("3006" + "0004f09f9880");
    });

    it("refuses a topic byte string that is not well-formed UTF-8 [MQTT-1.5.3-1]", () => {
      for (const t of ["\xE9", "\xC3", "a\xC3", "\xC0\x80", "\xC1\xBF", "\xE0\x80\x80", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\xFF", "\x80", "\u0100", "\u00E9t\u00E9"])
        expect(enc((b, o) => encodePublish(b, o, t, "x", 0, false, false, 0))).toBe(-Err.Topic);
    });

    it("writes a byte-string payload byte for byte, 00 and FF included", () => {
      expect(enc((b, o) => encodePublish(b, o, "t", "\x00\xC3\xFF", 0, false, false, 0))).toBe("3006000174" + "00c3ff");
    });

    it("refuses a payload string with a char above 0xFF (not a byte)", () => {
      expect(enc((b, o) => encodePublish(b, o, "t", "a\u0100", 0, false, false, 0))).toBe(-Err.TooBig);
    });
  }

  it("refuses QoS 3 [MQTT-3.3.1-4]", () => {
    for (const q of [3, -1, 1.5, 4])
      expect(enc((b, o) => encodePublish(b, o, "t", "x", q, false, false, 1))).toBe(-Err.Qos);
  });

  it("refuses packet id 0 (or above 65,535) at QoS 1 and 2 [MQTT-2.3.1-1]", () => {
    for (const q of [1, 2])
      for (const id of [0, 65536, -1, NaN])
        expect(enc((b, o) => encodePublish(b, o, "t", "x", q, false, false, id))).toBe(-Err.Options);
  });

  it("refuses a packet id that is not a whole number (it would be sent truncated) [MQTT-2.3.1-1]", () => {
    // 1.5 passes a range check but is written as id 1; mqtt-packet refuses such ids ("Invalid messageId").
    expect(enc((b, o) => encodePublish(b, o, "t", "x", 1, false, false, 1.5))).toBe(-Err.Options);
    expect(enc((b, o) => encodeAck(b, o, T.PUBACK, 2.5))).toBe(-Err.Options);
    expect(enc((b, o) => encodeSubscribe(b, o, 3.5, ["a"], 0))).toBe(-Err.Options);
  });

  it("refuses DUP on QoS 0 [MQTT-3.3.1-2]", () => {
    expect(enc((b, o) => encodePublish(b, o, "t", "x", 0, false, true, 0))).toBe(-Err.Options);
  });

  it("refuses a packet longer than the 268,435,455 bytes a Remaining Length can carry", () => {
    const b = new Uint8Array(16).fill(0xee);
    // topic 2+1, id 2, payload: 268,435,451 bytes = 268,435,456 in all.
    expect(encodePublish(b, 0, "t", hugePayload(268435451), 1, false, false, 1)).toBe(-Err.TooBig);
    // One byte less is the largest packet: it only lacks room.
    expect(encodePublish(b, 0, "t", hugePayload(268435450), 1, false, false, 1)).toBe(-Err.NoRoom);
    expect(b.every((x) => x == 0xee)).toBe(true);
  });

  it("encodes Remaining Lengths at each varint boundary in the minimal number of bytes", () => {
    for (const n of [127, 128, 16383, 16384, 2097151, 2097152]) {
      const payload = new Uint8Array(n - 3); // topic "t": 2 + 1 bytes
      const b = new Uint8Array(n + 5);
      const e = encodePublish(b, 0, "t", payload, 0, false, false, 0);
      const want = mqttGenerate({ cmd: "publish", topic: "t", payload: Buffer.from(payload), qos: 0 });
      expect(e).toBe(want.length);
      expect(hex(b, 0, 8)).toBe(hex(want, 0, 8));
    }
  });

  it("writes nothing and returns NoRoom (-109) when the PUBLISH does not fit", () => {
    checkNoRoom((b, o) => encodePublish(b, o, "a/b", new Uint8Array([1, 2, 3]), 1, true, true, 9));
    checkNoRoom((b, o) => encodePublish(b, o, str("ü/ß"), str("päyload"), 0, false, false, 0));
    checkNoRoom((b, o) => encodePublish(b, o, "t", new Uint8Array(200), 2, false, false, 1)); // 2-byte length
  });

  it("publishSize is exactly the bytes encodePublish writes, or the same error", () => {
    const cases: [string, any, number][] = [
      ["t", null, 0],
      ["a/b", new Uint8Array(200), 1],
      [str("ü/😀"), str("päyload"), 2],
      ["t", new Uint8Array(16380), 0],
      ["t", hugePayload(268435450), 1],
      ["t", hugePayload(268435451), 1],
      ["a/+", "x", 0],
      ["", "x", 0],
      ["t", "x", 3],
    ];
    for (const [topic, payload, qos] of cases) {
      const size = publishSize(topic, payload, qos);
      const b = new Uint8Array(20000);
      const e = encodePublish(b, 0, topic, payload, qos, false, false, 1);
      if (e == -Err.NoRoom) expect(size).toBe(268435455 + 5);
      else expect(size).toBe(e);
    }
  });

  it("finds the packet id in place, so a resend can set DUP and keep the id [MQTT-3.3.1-1, MQTT-2.3.1-3]", () => {
    for (const n of [0, 200, 20000]) {
      const b = new Uint8Array(n + 40);
      const e = encodePublish(b, 5, "a/b", new Uint8Array(n), 1, false, false, 0x1234);
      const i = publishIdOffset(b, 5);
      expect([b[i], b[i + 1]]).toEqual([0x12, 0x34]);
      b[5] |= 8;
      const p = mqttParse(b.subarray(5, e)).packets[0];
      expect([p.dup, p.qos, p.messageId, p.topic]).toEqual([true, 1, 0x1234, "a/b"]);
    }
  });
});

describe("PUBACK, PUBREC, PUBREL, PUBCOMP encoder", () => {
  it("encodes the four acks as mqtt-packet does: flags 0000, PUBREL 0010 [MQTT-2.2.2-1, MQTT-3.6.1-1, MQTT-2.3.1-6]", () => {
    const names: Record<number, string> = { 4: "puback", 5: "pubrec", 6: "pubrel", 7: "pubcomp" };
    for (const t of [T.PUBACK, T.PUBREC, T.PUBREL, T.PUBCOMP])
      for (const id of [1, 0x1234, 65535]) {
        const r = enc((b, o) => encodeAck(b, o, t, id));
        expect(r).toBe(hex(mqttGenerate({ cmd: names[t], messageId: id })));
        expect((r as string).slice(0, 2)).toBe(t == T.PUBREL ? "62" : (t << 4).toString(16));
        const p = mqttParse(fromHex(r as string)).packets[0];
        expect([p.cmd, p.messageId]).toEqual([names[t], id]);
      }
  });

  it("refuses packet id 0 [MQTT-2.3.1-1]", () => {
    for (const t of [T.PUBACK, T.PUBREC, T.PUBREL, T.PUBCOMP])
      for (const id of [0, 65536, -1])
        expect(enc((b, o) => encodeAck(b, o, t, id))).toBe(-Err.Options);
  });

  it("writes nothing and returns NoRoom (-109) when an ack does not fit", () => {
    checkNoRoom((b, o) => encodeAck(b, o, T.PUBREL, 7));
  });
});

describe("SUBSCRIBE and UNSUBSCRIBE encoder", () => {
  it("encodes several filters with a QoS each, flags 0010, as mqtt-packet does [MQTT-3.8.1-1, MQTT-3.8.3-1, MQTT-3.8.3-4]", () => {
    const filters = ["a/b", "c/+/d", "#", "ü/#"];
    const r = enc((b, o) => encodeSubscribe(b, o, 10, filters.map(str), [0, 1, 2, 1]));
    const mp = { cmd: "subscribe", messageId: 10, subscriptions: filters.map((topic, i) => ({ topic, qos: [0, 1, 2, 1][i] })) };
    expect(r).toBe(hex(mqttGenerate(mp)));
    expect((r as string).slice(0, 2)).toBe("82");
    const p = mqttParse(fromHex(r as string)).packets[0];
    expect(p.subscriptions).toEqual(mp.subscriptions);
    expect(p.messageId).toBe(10);
  });

  it("applies a single QoS number to every filter", () => {
    const r = enc((b, o) => encodeSubscribe(b, o, 3, ["x", "y"], 1));
    expect(r).toBe(hex(mqttGenerate({ cmd: "subscribe", messageId: 3, subscriptions: [{ topic: "x", qos: 1 }, { topic: "y", qos: 1 }] })));
  });

  it("encodes UNSUBSCRIBE with flags 0010 as mqtt-packet does [MQTT-3.10.1-1, MQTT-3.10.3-1]", () => {
    const filters = ["a/b", "+/x", "#"];
    const r = enc((b, o) => encodeSubscribe(b, o, 65535, filters, null));
    expect(r).toBe(hex(mqttGenerate({ cmd: "unsubscribe", messageId: 65535, unsubscriptions: filters })));
    expect((r as string).slice(0, 2)).toBe("a2");
    expect(mqttParse(fromHex(r as string)).packets[0].unsubscriptions).toEqual(filters);
  });

  it("refuses a SUBSCRIBE or UNSUBSCRIBE without filters [MQTT-3.8.3-3, MQTT-3.10.3-2]", () => {
    expect(enc((b, o) => encodeSubscribe(b, o, 1, [], 0))).toBe(-Err.Filter);
    expect(enc((b, o) => encodeSubscribe(b, o, 1, [], null))).toBe(-Err.Filter);
  });

  it("refuses malformed topic filters: '#' not last or not a whole level, '+' not a whole level [MQTT-4.7.1-2, MQTT-4.7.1-3]", () => {
    for (const f of ["a/#/b", "a+", "#a", "a#", "+a", "a/b#", "a/+b", "a/b+/c", "##", "++", "#/", "#/+", "+#"]) {
      expect(enc((b, o) => encodeSubscribe(b, o, 1, ["ok", f], 0))).toBe(-Err.Filter);
      expect(enc((b, o) => encodeSubscribe(b, o, 1, [f], null))).toBe(-Err.Filter);
    }
  });

  it("refuses an empty filter, U+0000 or ill-formed UTF-8 in a filter [MQTT-4.7.3-1, MQTT-4.7.3-2, MQTT-3.8.3-1]", () => {
    const bad = ["", "a\u0000", ...(ESP ? ["\xC3", "\xED\xA0\x80", "\u0100"] : ["\uD800", "a/\uDFFF"])];
    for (const f of bad) expect(enc((b, o) => encodeSubscribe(b, o, 1, [f], 1))).toBe(-Err.Filter);
    expect(enc((b, o) => encodeSubscribe(b, o, 1, ["x".repeat(65536)], 1))).toBe(-Err.Filter);
  });

  it("accepts every well-formed wildcard filter", () => {
    for (const f of ["#", "+", "/", "/#", "+/+", "a/+/b", "a/#", "+/#", "$SYS/#", "a//b", "/+/", "sport/tennis/+"])
      expect(typeof enc((b, o) => encodeSubscribe(b, o, 1, [f], 2))).toBe("string");
  });

  it("refuses requested QoS 3 [MQTT-3.8.3-4]", () => {
    expect(enc((b, o) => encodeSubscribe(b, o, 1, ["a"], 3))).toBe(-Err.Qos);
    expect(enc((b, o) => encodeSubscribe(b, o, 1, ["a", "b"], [1, 3]))).toBe(-Err.Qos);
    expect(enc((b, o) => encodeSubscribe(b, o, 1, ["a", "b"], [1]))).toBe(-Err.Qos);
  });

  it("refuses packet id 0 [MQTT-2.3.1-1]", () => {
    expect(enc((b, o) => encodeSubscribe(b, o, 0, ["a"], 0))).toBe(-Err.Options);
    expect(enc((b, o) => encodeSubscribe(b, o, 0, ["a"], null))).toBe(-Err.Options);
    expect(enc((b, o) => encodeSubscribe(b, o, 65536, ["a"], null))).toBe(-Err.Options);
  });

  it("writes nothing and returns NoRoom (-109) when a SUBSCRIBE or UNSUBSCRIBE does not fit", () => {
    checkNoRoom((b, o) => encodeSubscribe(b, o, 2, ["a/+", "#"], [1, 0]));
    checkNoRoom((b, o) => encodeSubscribe(b, o, 2, ["a/+", "#"], null));
  });
});

describe("PINGREQ and DISCONNECT encoder", () => {
  it("encodes PINGREQ as C0 00", () => {
    expect(enc((b, o) => encodeEmpty(b, o, T.PINGREQ))).toBe("c000");
    expect(hex(mqttGenerate({ cmd: "pingreq" }))).toBe("c000");
  });

  it("encodes DISCONNECT as E0 00 [MQTT-3.14.1-1]", () => {
    expect(enc((b, o) => encodeEmpty(b, o, T.DISCONNECT))).toBe("e000");
    expect(mqttParse(fromHex("e000")).packets[0].cmd).toBe("disconnect");
  });

  it("writes nothing and returns NoRoom (-109) when PINGREQ or DISCONNECT does not fit", () => {
    checkNoRoom((b, o) => encodeEmpty(b, o, T.PINGREQ));
    checkNoRoom((b, o) => encodeEmpty(b, o, T.DISCONNECT));
  });
});

describe("decoding every packet a server sends", () => {
  const server: any[] = [
    { cmd: "connack", sessionPresent: false, returnCode: 0 },
    { cmd: "connack", sessionPresent: true, returnCode: 0 },
    ...[1, 2, 3, 4, 5].map((returnCode) => ({ cmd: "connack", sessionPresent: false, returnCode })),
    { cmd: "publish", topic: "a/b", payload: Buffer.from("hello"), qos: 0, retain: false, dup: false },
    { cmd: "publish", topic: "a/b", payload: Buffer.alloc(0), qos: 0, retain: true, dup: false },
    { cmd: "publish", topic: "ü/😀", payload: Buffer.from([0, 255]), qos: 1, retain: false, dup: true, messageId: 1 },
    { cmd: "publish", topic: "$SYS/x", payload: Buffer.alloc(300, 7), qos: 2, retain: true, dup: true, messageId: 65535 },
    { cmd: "puback", messageId: 1 },
    { cmd: "pubrec", messageId: 258 },
    { cmd: "pubrel", messageId: 65535 },
    { cmd: "pubcomp", messageId: 3 },
    { cmd: "suback", messageId: 9, granted: [0, 1, 2, 128] },
    { cmd: "suback", messageId: 10, granted: [128] },
    { cmd: "unsuback", messageId: 11 },
    { cmd: "pingresp" },
  ];

  for (const p of server) {
    const name = `${p.cmd} ${JSON.stringify({ ...p, cmd: undefined, payload: undefined })}`;
    it(`decodes a ${name} built by mqtt-packet to the same fields`, () => {
      const bytes = mqttGenerate(p);
      for (const kind of ["u8", "str"] as const) {
        const r = decodeChunks(split(bytes, [], kind));
        expect(r.rc).toBe(0);
        expect(r.packets).toEqual([expected(p)]);
      }
    });
  }

  it("decodes the PUBLISH and acks our own encoder writes", () => {
    const b = new Uint8Array(200);
    let o = encodePublish(b, 0, str("x/ÿ"), new Uint8Array([9, 8]), 1, true, true, 42);
    o = encodeAck(b, o, T.PUBACK, 42);
    o = encodeAck(b, o, T.PUBREC, 43);
    o = encodeAck(b, o, T.PUBREL, 44);
    o = encodeAck(b, o, T.PUBCOMP, 45);
    const r = decodeChunks([b.subarray(0, o)]);
    expect(r.rc).toBe(0);
    expect(r.packets).toEqual([
      { type: T.PUBLISH, flags: 0xb, id: 42, topic: utf8("x/ÿ"), payload: "0908", big: false },
      { type: T.PUBACK, flags: 0, id: 42 },
      { type: T.PUBREC, flags: 0, id: 43 },
      { type: T.PUBREL, flags: 2, id: 44 },
      { type: T.PUBCOMP, flags: 0, id: 45 },
    ]);
  });

  it("reports the topic as the UTF-8 bytes on the wire, a byte string on Espruino being exactly those bytes", () => {
    const bytes = mqttGenerate({ cmd: "publish", topic: "é/😀", payload: Buffer.alloc(0), qos: 0 });
    const r = decodeChunks([latin1(bytes)]);
    expect(r.packets[0].topic).toBe(utf8("é/😀"));
    // The bytes as the packet holds them, read while it is reported (Espruino builds keep no
    // string of it afterwards).
    let seen = "";
    const d = createDecoder(new Uint8Array(64), (x) => {
      seen = typeof x._d == "string" ? x._d.substring(x._ts, x._te) : latin1(x._d.subarray(x._ts, x._te));
    });
    const chunk = latin1(bytes);
    expect(feed(d, ESP ? chunk : bytes, 0, bytes.length)).toBe(0);
    expect(seen).toBe(Buffer.from("é/😀", "utf8").toString("latin1"));
  });
});
