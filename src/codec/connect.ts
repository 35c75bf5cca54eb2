// CONNECT: the first packet on every connection [MQTT-3.1.0-1], protocol level 4 (3.1.1).
import { Err } from "../errors";
import { headerSize, room, writeHeader, T } from "./packet";
import { badName } from "./topic";
import { badStr, Payload, payloadBytes, writeField, writeStr } from "./strings";

/** What a CONNECT carries. Absent fields are left out of the packet with their flags 0. */
export interface ConnectFields {
  clientId: string;
  /** Clean Session flag; an empty clientId requires it [MQTT-3.1.3-7]. */
  clean: boolean;
  /** Seconds, 0..65535; 0 turns keepalive off. */
  keepalive: number;
  will?: { topic: string; payload?: Payload | null; qos?: number; retain?: boolean } | null;
  username?: string | null;
  /** Binary data in 3.1.1; only sent with a user name [MQTT-3.1.2-22]. */
  password?: Payload | null;
}

/** Why `c` cannot be sent as a CONNECT (a positive Err), or 0. */
export function badConnect(c: ConnectFields): number {
  var w = c.will, q, u = c.username, pw = c.password, ka = c.keepalive;
  if (badStr(c.clientId)) return Err.String;
  if (!c.clientId && !c.clean) return Err.Options; // [MQTT-3.1.3-7]
  if ((ka & 65535) !== ka) return Err.Options; // an integer 0..65535, not truncated
  if (w) {
    q = w.qos || 0;
    if (q !== 0 && q !== 1 && q !== 2) return Err.Qos; // [MQTT-3.1.2-14]
    if (badStr(w.topic) || badName(w.topic)) return Err.Topic;
    q = payloadBytes(w.payload);
    if (q < 0 || q > 65535) return Err.TooBig;
  }
  if (u != null && badStr(u)) return Err.String;
  if (pw != null) {
    if (u == null) return Err.Options; // [MQTT-3.1.2-22]
    q = payloadBytes(pw);
    if (q < 0 || q > 65535) return Err.String;
  }
  return 0;
}

/** The strings and binary fields of a CONNECT, in their order [MQTT-3.1.3-1]; null where absent. */
function fieldsOf(c: ConnectFields): any[] {
  var w = c.will, u = c.username;
  return [c.clientId, w && w.topic, w && (w.payload || ""), u, u != null ? c.password : null];
}

/** Remaining Length of a valid CONNECT. */
function connectLength(c: ConnectFields): number {
  for (var f = fieldsOf(c), n = 10, i = 0; i < 5; i++) if (f[i] != null) n += 2 + payloadBytes(f[i]);
  return n;
}

/**
 * Encodes CONNECT at `o`; returns the end offset, or a negative Err when a field is invalid or
 * the packet does not fit (nothing written in either case).
 */
export function encodeConnect(b: Uint8Array, o: number, c: ConnectFields): number {
  var e = badConnect(c), n = connectLength(c);
  o = e ? -e : room(b, o, n);
  return o < 0 ? o : writeConnect(b, o, c, n);
}

/** A valid CONNECT (the caller checked it, or trusts it) in a buffer of its own. */
export function connectPacket(c: ConnectFields): Uint8Array {
  var n = connectLength(c), b = new Uint8Array(headerSize(n) + n);
  writeConnect(b, 0, c, n);
  return b;
}

function writeConnect(b: Uint8Array, o: number, c: ConnectFields, n: number): number {
  var w = c.will, f = fieldsOf(c), ka = c.keepalive, i;
  o = writeHeader(b, o, T.CONNECT << 4, n);
  o = writeStr(b, o, "\0\x04MQTT\x04"); // protocol name and level 4
  b[o++] = (c.clean ? 2 : 0) | (w ? 4 | ((w.qos || 0) << 3) | (w.retain ? 32 : 0) : 0) | (f[3] != null ? 128 : 0) | (f[4] != null ? 64 : 0);
  b[o++] = ka >> 8;
  b[o++] = ka & 255;
  for (i = 0; i < 5; i++) if (f[i] != null) o = writeField(b, o, f[i]);
  return o;
}
