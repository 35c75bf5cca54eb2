// Shared by the codec tests: hex and byte-string conversions, a snapshot of what the decoder
// reports, mqtt-packet's object model mapped onto our encoders and onto decoder snapshots.
import mqtt from "mqtt-packet";
import { types } from "node:util";
import {
  createDecoder,
  feed,
  encodeConnect,
  encodePublish,
  encodeAck,
  encodeEmpty,
  encodeSubscribe,
  T,
} from "../../src/codec";
import type { Decoder, ConnectFields } from "../../src/codec";

declare const __ESPRUINO__: boolean;
export const ESP: boolean = __ESPRUINO__;

/** Bytes s..e of `b` in hex; an 8-bit string (where Espruino builds hold packets) is its char codes. */
export function hex(b: ArrayLike<number> | string, s = 0, e = b.length): string {
  if (b instanceof Uint8Array && !types.isProxy(b)) return Buffer.from(b.buffer, b.byteOffset + s, Math.max(0, e - s)).toString("hex");
  let h = "";
  for (let i = s; i < e; i++) h += (typeof b == "string" ? b.charCodeAt(i) : (b[i] as number)).toString(16).padStart(2, "0");
  return h;
}

export function fromHex(h: string): Uint8Array {
  return new Uint8Array(Buffer.from(h, "hex"));
}

/** Bytes as an 8-bit string (one char per byte), as Espruino sockets deliver them. */
export function latin1(b: ArrayLike<number>): string {
  if (b instanceof Uint8Array && !types.isProxy(b)) return Buffer.from(b.buffer, b.byteOffset, b.length).toString("latin1");
  let s = "";
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i] as number);
  return s;
}

/**
 * A text string as this target's codec takes it: UTF-16 as is on Node, its UTF-8 bytes as an
 * 8-bit string on Espruino.
 */
export function str(s: string): string {
  return ESP ? Buffer.from(s, "utf8").toString("latin1") : s;
}

export function utf8(s: string): string {
  return Buffer.from(s, "utf8").toString("hex");
}

/** What one decoder callback reported, copied out while the fields are valid. */
export interface Got {
  type: number;
  flags: number;
  id: number;
  /** PUBLISH */
  topic?: string;
  payload?: string;
  big?: boolean;
  /** CONNACK: the two body bytes */
  connack?: string;
  /** SUBACK */
  codes?: string;
}

export function snap(d: Decoder): Got {
  const g: Got = { type: d._type, flags: d._flags, id: d._id };
  const p = d._d;
  if (d._type == T.PUBLISH) {
    g.topic = hex(p, d._ts, d._te);
    g.payload = hex(p, d._ps, d._pe);
    g.big = d._big;
  } else if (d._type == T.CONNACK) g.connack = hex(p, d._o, d._o + 2);
  else if (d._type == T.SUBACK) g.codes = hex(p, d._ps, d._pe);
  return g;
}

export type Chunk = Uint8Array | string;

/** Splits `b` at the given offsets (sorted, inside 0..length) into chunks of the given kind. */
export function split(b: Uint8Array, at: number[], kind: "u8" | "str" | ((i: number) => "u8" | "str")): Chunk[] {
  const cuts = [0, ...at, b.length];
  const out: Chunk[] = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const part = b.subarray(cuts[i], cuts[i + 1]);
    const k = typeof kind == "function" ? kind(i) : kind;
    // Espruino sockets deliver strings only, and the Espruino build of the decoder reads nothing else.
    out.push(k == "str" || __ESPRUINO__ ? latin1(part) : part.slice());
  }
  return out;
}

export interface Run {
  packets: Got[];
  /** The first non-zero feed result, or 0. */
  rc: number;
  d: Decoder;
}

/** Decodes `chunks` with a fresh decoder of `size` bytes. */
export function decodeChunks(chunks: Chunk[], size = 4096): Run {
  const packets: Got[] = [];
  const d = createDecoder(new Uint8Array(size), (x) => packets.push(snap(x)));
  let rc = 0;
  for (const c of chunks) {
    const r = feedTarget(d, c, 0, c.length);
    if (r && !rc) rc = r;
  }
  return { packets, rc, d };
}

export function decodeHex(h: string, size = 4096, kind: "u8" | "str" = "u8"): Run {
  return decodeChunks(split(fromHex(h), [], kind), size);
}

// ---- mqtt-packet's object model ----

const CMD: Record<string, number> = {
  connect: 1, connack: 2, publish: 3, puback: 4, pubrec: 5, pubrel: 6, pubcomp: 7,
  subscribe: 8, suback: 9, unsubscribe: 10, unsuback: 11, pingreq: 12, pingresp: 13, disconnect: 14,
};

/** A Buffer, {hex} (the vectors' JSON form), a string or nothing, as bytes. */
export function bytesOf(v: any): Uint8Array {
  if (v == null) return new Uint8Array(0);
  if (typeof v == "string") return new Uint8Array(Buffer.from(v, "utf8"));
  if (v instanceof Uint8Array) return new Uint8Array(v);
  if (typeof v.hex == "string") return fromHex(v.hex);
  if (typeof v.length == "number") return v; // a stand-in for a payload too large to allocate
  throw new Error("not bytes: " + JSON.stringify(v));
}

/** A string-or-bytes field of mqtt-packet as the string our encoder takes on this target. */
export function textOf(v: any): string {
  return typeof v == "string" ? str(v) : latin1ToTarget(bytesOf(v));
}

/** Bytes that are UTF-8 text, as the string the codec takes on this target. */
export function latin1ToTarget(b: Uint8Array): string {
  return ESP ? latin1(b) : Buffer.from(b).toString("utf8");
}

/** The decoder snapshot an mqtt-packet server packet should produce (mqtt-packet's parse or input). */
export function expected(p: any): Got {
  const type = CMD[p.cmd];
  const qos = p.qos || 0;
  const g: Got = { type, flags: 0, id: 0 };
  switch (p.cmd) {
    case "publish":
      g.flags = (p.dup ? 8 : 0) | (qos << 1) | (p.retain ? 1 : 0);
      g.id = qos ? p.messageId : 0;
      g.topic = hex(bytesOf(p.topic));
      g.payload = hex(bytesOf(p.payload));
      g.big = false;
      break;
    case "connack":
      g.connack = hex([p.sessionPresent ? 1 : 0, p.returnCode]);
      break;
    case "suback":
      g.id = p.messageId;
      g.codes = hex(p.granted);
      break;
    case "pubrel":
      g.flags = 2;
      g.id = p.messageId;
      break;
    case "puback":
    case "pubrec":
    case "pubcomp":
    case "unsuback":
      g.id = p.messageId;
      break;
  }
  return g;
}

/** mqtt-packet's parser over one buffer: every packet, or the first error message. */
export function mqttParse(b: Uint8Array): { packets: any[]; error?: string } {
  const parser = mqtt.parser({ protocolVersion: 4 });
  const packets: any[] = [];
  let error: string | undefined;
  parser.on("packet", (p: any) => packets.push(p));
  parser.on("error", (e: Error) => (error ??= e.message));
  parser.parse(Buffer.from(b));
  return { packets, error };
}

export function mqttGenerate(p: any): Uint8Array {
  return new Uint8Array(mqtt.generate(p, { protocolVersion: 4 }));
}

/** mqtt-packet CONNECT fields as our ConnectFields (strings as this target takes them). */
export function connectFields(p: any): ConnectFields {
  const c: ConnectFields = {
    clientId: p.clientId == null ? "" : textOf(p.clientId),
    clean: p.clean !== false,
    keepalive: p.keepalive == null ? 0 : p.keepalive,
  };
  if (p.will) {
    c.will = { topic: textOf(p.will.topic), payload: bytesOf(p.will.payload), qos: p.will.qos, retain: p.will.retain };
  }
  if (p.username != null) c.username = textOf(p.username);
  if (p.password != null) c.password = bytesOf(p.password);
  return c;
}

/**
 * Encodes a client packet given in mqtt-packet's object model with our encoders into `b`;
 * returns our encoder's result (end offset or negative Err).
 */
export function encodeLike(b: Uint8Array, p: any, o = 0): number {
  const id = p.messageId;
  switch (p.cmd) {
    case "connect":
      return encodeConnect(b, o, connectFields(p));
    case "publish":
      return encodePublish(b, o, textOf(p.topic), bytesOf(p.payload), p.qos || 0, !!p.retain, !!p.dup, id);
    case "puback":
    case "pubrec":
    case "pubrel":
    case "pubcomp":
      return encodeAck(b, o, CMD[p.cmd], id);
    case "subscribe": {
      const subs: any[] = p.subscriptions || [];
      return encodeSubscribe(b, o, id, subs.map((s) => textOf(s.topic)), subs.map((s) => s.qos));
    }
    case "unsubscribe": {
      const u = p.unsubscriptions;
      return encodeSubscribe(b, o, id, Array.isArray(u) ? u.map((t: any) => (typeof t == "string" ? str(t) : t)) : u === undefined ? [] : u, null);
    }
    case "pingreq":
    case "disconnect":
      return encodeEmpty(b, o, CMD[p.cmd]);
  }
  throw new Error("no encoder for " + p.cmd);
}

export { CMD };

// ---- instrumentation ----

const PASS = new Set(["length", "byteLength", "byteOffset", "buffer", "BYTES_PER_ELEMENT", "constructor"]);

/**
 * A Proxy over `u` that throws on any index get or set that is not an integer inside 0..length-1
 * (and on a stored value that is not a byte), so a decoder reading or writing past its buffers
 * fails loudly instead of reading `undefined` or writing nowhere. `target` is the real array.
 */
export function strict(u: Uint8Array): Uint8Array {
  const check = (prop: string | symbol): number | null => {
    if (typeof prop == "symbol" || PASS.has(prop)) return null;
    const i = Number(prop);
    if (!(Number.isInteger(i) && i >= 0 && i < u.length && String(i) === prop))
      throw new RangeError(`index ${String(prop)} outside 0..${u.length - 1}`);
    return i;
  };
  return new Proxy(u, {
    get(t, prop) {
      const i = check(prop);
      if (i == null) {
        const v = Reflect.get(t, prop, t);
        return typeof v == "function" ? v.bind(t) : v;
      }
      return t[i];
    },
    set(t, prop, v) {
      const i = check(prop);
      if (i == null) throw new TypeError(`set ${String(prop)}`);
      if (!(Number.isInteger(v) && v >= 0 && v <= 255)) throw new TypeError(`stores ${v} at ${i}`);
      t[i] = v;
      return true;
    },
  });
}

/**
 * Wraps a decoder so that each `feed` through `guardedFeed` may run its loop at most twice per
 * byte (each pass consumes a byte, or once per packet moves from the topic length to the topic):
 * a loop that stops consuming throws instead of hanging the test run.
 */
export function guard(d: Decoder): Decoder & { _limit: number } {
  let reads = 0;
  const g = new Proxy(d as Decoder & { _limit: number }, {
    get(t, prop, r) {
      if (prop === "_st" && ++reads > (t as any)._limit) throw new Error("feed does not consume its input");
      return Reflect.get(t, prop, r);
    },
    set(t, prop, v) {
      if (prop === "_limit") reads = 0;
      (t as any)[prop] = v;
      return true;
    },
  });
  g._limit = 1e9;
  return g;
}

/** feed() with the chunks this target's sockets deliver: on Espruino a Uint8Array becomes its 8-bit string. */
export function feedTarget(d: Decoder, c: Chunk, s: number, e: number): number {
  return feed(d, __ESPRUINO__ && typeof c != "string" ? latin1(c) : c, s, e);
}

export function guardedFeed(d: Decoder & { _limit: number }, c: Chunk, s = 0, e = c.length): number {
  d._limit = 2 * (e - s) + 4;
  return feedTarget(d, c, s, e);
}

/** One Uint8Array of the parts, in order. */
export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
