// CONNECT: the first packet on every connection [MQTT-3.1.0-1], protocol level 4 (3.1.1).
import { Err } from "../errors";
import { packetOf, place, T } from "./packet";
import { badName } from "./topic";
import { badStr, Payload, payloadBytes, payloadOf } from "./strings";

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

/**
 * Encodes CONNECT at `o`; returns the end offset, or a negative Err when a field is invalid or
 * the packet does not fit (nothing written in either case).
 */
export function encodeConnect(b: Uint8Array, o: number, c: ConnectFields): number {
  var e = badConnect(c);
  return e ? -e : place(b, o, connectPacket(c));
}

/** A valid CONNECT (the caller checked it, or trusts it) in a buffer of its own; ArrayBuffer payloads are taken too. */
export function connectPacket(c: ConnectFields): Uint8Array {
  var w = c.will, u = c.username, pw = u != null ? payloadOf(c.password) : null, ka = c.keepalive;
  // Protocol name and level 4, flags (set below), keepalive; then [MQTT-3.1.3-1] id, will topic,
  // will message, user, password.
  var parts: any[] = ["MQTT", 4, c.clean ? 2 : 0, ka >> 8, ka & 255, c.clientId];
  if (w) parts.push(w.topic, payloadOf(w.payload) || ""), (parts[2] |= 4 | ((w.qos || 0) << 3) | (w.retain ? 32 : 0));
  if (u != null) parts.push(u), (parts[2] |= 128);
  if (pw != null) parts.push(pw), (parts[2] |= 64);
  return packetOf(T.CONNECT << 4, parts);
}
