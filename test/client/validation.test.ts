// Validation of what the app asks for: bad topics and filters, QoS outside 0-1, payloads larger
// than the target allows. The callback (or `error` when there is none) gets the code; nothing is sent.
import { describe, it, expect } from "vitest";
import { MODE, connected, drain, str } from "./helpers";

/** Runs `call(cb)` on a connected client; returns the code the callback got, the `error` codes, and what was sent. */
function attempt(call: (c: any, cb?: any) => void, withCallback = true) {
  const r = connected({}, { outboxSize: 1024 });
  const got: any[] = [];
  const errs: number[] = [];
  r.c.on("error", (e: any) => errs.push(e.code));
  call(r.c, withCallback ? (e: any) => got.push(e && e.code) : undefined);
  const sync = got.slice();
  const sent = drain(r.broker, 1000);
  return { got, sync, errs, sent };
}

const badTopics: [string, string][] = [
  ["empty", ""],
  ["with +", "a/+/b"],
  ["with #", "a/#"],
  ["just #", "#"],
  ["with U+0000 [MQTT-4.7.3-2]", "a\u0000b"],
  ["over 65,535 bytes [MQTT-4.7.3-3]", "t".repeat(65536)],
  // ill-formed UTF-8: a lone surrogate on Node, a lone continuation byte in an 8-bit string on Espruino
  ["ill-formed UTF-8 [MQTT-1.5.3-1]", MODE == "node" ? "a/\ud800" : "a/\x80"],
];

const badFilters: [string, string][] = [
  ["empty", ""],
  ["# not last [MQTT-4.7.1-2]", "a/#/b"],
  ["# not a whole level", "a/b#"],
  ["+ not a whole level [MQTT-4.7.1-3]", "a/+b"],
  ["+ not a whole level (before)", "a+/b"],
  ["# after + in one level", "+#"],
];

describe("publish", () => {
  for (const [name, topic] of badTopics) {
    it(`a topic ${name} fails with 101 through the callback, at once; nothing is sent`, () => {
      const { got, sync, errs, sent } = attempt((c, cb) => c.publish(topic, "x", { qos: 1 }, cb));
      expect(sync).toEqual([101]);
      expect(got).toEqual([101]);
      expect(errs).toEqual([]);
      expect(sent).toEqual([]);
    });
  }

  for (const qos of [3, -1, 0.5, "1", "2"]) {
    it(`QoS ${JSON.stringify(qos)} fails with 103; nothing is sent`, () => {
      const { got, sent } = attempt((c, cb) => c.publish("t", "x", { qos }, cb));
      expect(got).toEqual([103]);
      expect(sent).toEqual([]);
    });
  }

  it("a payload larger than the outbox can ever hold fails with 104; nothing is sent", () => {
    const { got, sent } = attempt((c, cb) => c.publish("t", "x".repeat(1024), { qos: 0 }, cb));
    expect(got).toEqual([104]);
    expect(sent).toEqual([]);
  });

  it("the largest payload that fits the outbox is sent", () => {
    // 1024 bytes: the entry's state byte + 3 header bytes (Remaining Length 1020 takes 2) + 2 + 1 (topic "t") + 1017 payload
    const { got, sent } = attempt((c, cb) => c.publish("t", "x".repeat(1017), { qos: 0 }, cb));
    expect(got).toEqual([null]);
    expect(sent.map((p) => p.payload.length)).toEqual([1017]);
    expect(attempt((c, cb) => c.publish("t", "x".repeat(1018), { qos: 0 }, cb)).got).toEqual([104]);
  });

  it("a payload of a type it cannot send (a number, an object) fails with 106", () => {
    for (const payload of [42, { a: 1 }, true]) {
      const { got, sent } = attempt((c, cb) => c.publish("t", payload, cb));
      expect(got).toEqual([106]);
      expect(sent).toEqual([]);
    }
  });

  it("without a callback, the coded error goes to `error` instead", () => {
    for (const [call, code] of [
      [(c: any) => c.publish("a/+", "x"), 101],
      [(c: any) => c.publish("t", "x", { qos: 3 }), 103],
      [(c: any) => c.publish("t", "x".repeat(5000)), 104],
    ] as [(c: any) => void, number][]) {
      const { errs, sent } = attempt(call, false);
      expect(errs).toEqual([code]);
      expect(sent).toEqual([]);
    }
  });

  it("payloads as string, Uint8Array and ArrayBuffer, empty or absent, are sent byte for byte", () => {
    const { sent } = attempt((c) => {
      c.publish("t", "abc");
      c.publish("t", new Uint8Array([0, 255, 7]));
      c.publish("t", new Uint8Array([1, 2]).buffer);
      c.publish("t", "");
      c.publish("t", null);
    });
    expect(sent.map((p) => [...p.payload])).toEqual([[97, 98, 99], [0, 255, 7], [1, 2], [], []]);
  });
});

describe("what is sent", () => {
  it("non-ASCII topics and payloads go out as their UTF-8 bytes", () => {
    const { sent } = attempt((c) => c.publish(str("maison/température"), str("22,5 °C"), { qos: 1 }));
    expect(sent[0].topic).toBe("maison/température");
    expect(Buffer.from(sent[0].payload).toString("utf8")).toBe("22,5 °C");
  });

  it("retain and QoS are sent as asked; DUP is never set on a first transmission [MQTT-4.3.1-1, MQTT-4.3.2-1]", () => {
    const { sent } = attempt((c) => {
      c.publish("a", "x", { retain: true });
      c.publish("b", "y", { qos: 1, retain: true });
      c.publish("c", "z", { qos: 0, retain: false });
    });
    expect(sent.map((p) => [p.topic, p.qos, p.retain, p.dup])).toEqual([
      ["a", 0, true, false],
      ["b", 1, true, false],
      ["c", 0, false, false],
    ]);
  });

  it("CONNECT carries the will, user name and password as given [MQTT-3.1.2-9, MQTT-3.1.3-1]", () => {
    const r = connected({ keepalive: 17, username: "dev", password: "s3cret", will: { topic: "status/dev1", payload: "offline", qos: 1, retain: true } });
    expect(r.connect).toMatchObject({ keepalive: 17, username: "dev", will: { topic: "status/dev1", qos: 1, retain: true } });
    expect(String(r.connect.password)).toBe("s3cret");
    expect(String(r.connect.will.payload)).toBe("offline");
  });
});

describe("subscribe and unsubscribe", () => {
  for (const [name, filter] of badFilters) {
    it(`a filter ${name} fails with 102; nothing is sent`, () => {
      const sub = attempt((c, cb) => c.subscribe(filter, { qos: 0 }, cb));
      expect(sub.sync).toEqual([102]);
      expect(sub.sent).toEqual([]);
      const unsub = attempt((c, cb) => c.unsubscribe(filter, cb));
      expect(unsub.sync).toEqual([102]);
      expect(unsub.sent).toEqual([]);
    });
  }

  it("one bad filter among good ones fails the whole call; nothing is sent", () => {
    const { got, sent } = attempt((c, cb) => c.subscribe(["a/b", "a/#/b", "c"], { qos: 1 }, cb));
    expect(got).toEqual([102]);
    expect(sent).toEqual([]);
  });

  it("an empty list, or a filter that is not a string, fails with 102", () => {
    expect(attempt((c, cb) => c.subscribe([], cb)).got).toEqual([102]);
    expect(attempt((c, cb) => c.subscribe([7], cb)).got).toEqual([102]);
  });

  it("QoS 3 in a subscription fails with 103 (QoS 2 too on esp8266 and lite: test/engines)", () => {
    const { got, sent } = attempt((c, cb) => c.subscribe("a", { qos: 3 }, cb));
    expect(got).toEqual([103]);
    expect(sent).toEqual([]);
  });

  it("without a callback the coded error goes to `error`", () => {
    const { errs, sent } = attempt((c) => c.subscribe("a/#/b"), false);
    expect(errs).toEqual([102]);
    expect(sent).toEqual([]);
  });

  it("valid filters are sent as given: '#', '+', '/', '$SYS/#', a level of spaces", () => {
    const { sent } = attempt((c) => c.subscribe(["#", "+", "/", "+/+", "$SYS/#", "a/ /b"], { qos: 1 }));
    expect(sent[0].subscriptions.map((s: any) => s.topic)).toEqual(["#", "+", "/", "+/+", "$SYS/#", "a/ /b"]);
  });
});
