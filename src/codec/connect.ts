// CONNECT: the first packet on every connection [MQTT-3.1.0-1], protocol level 4 (3.1.1).
import { Err } from "../errors";
import { room, writeHeader, T } from "./packet";
import { badName } from "./topic";
import { Payload, payloadBytes, strBytes, writeField, writePayload, writeStr } from "./strings";

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

/**
 * Encodes CONNECT at `o`; returns the end offset, or a negative Err when a field is invalid or
 * the packet does not fit (nothing written in either case).
 */
export function encodeConnect(b: Uint8Array, o: number, c: ConnectFields): number {
  var id = c.clientId,
    w = c.will,
    u = c.username,
    pw = c.password,
    ka = c.keepalive;
  var nid = strBytes(id);
  if (nid < 0 || nid > 65535) return -Err.String;
  if (!nid && !c.clean) return -Err.Options; // [MQTT-3.1.3-7]
  if ((ka & 65535) !== ka) return -Err.Options; // an integer 0..65535, not truncated
  var n = 12 + nid, flags = c.clean ? 2 : 0, nwt = 0, nwp = 0, nu = 0, np = 0;
  if (w) {
    var q = w.qos || 0;
    if (q !== 0 && q !== 1 && q !== 2) return -Err.Qos; // [MQTT-3.1.2-14]
    nwt = strBytes(w.topic);
    nwp = payloadBytes(w.payload);
    if (nwt < 1 || nwt > 65535 || badName(w.topic)) return -Err.Topic;
    if (nwp < 0 || nwp > 65535) return -Err.TooBig;
    n += 4 + nwt + nwp;
    flags |= 4 | (q << 3) | (w.retain ? 32 : 0);
  }
  if (u != null) {
    nu = strBytes(u);
    if (nu < 0 || nu > 65535) return -Err.String;
    n += 2 + nu;
    flags |= 128;
    if (pw != null) {
      np = payloadBytes(pw);
      if (np < 0 || np > 65535) return -Err.String;
      n += 2 + np;
      flags |= 64;
    }
  } else if (pw != null) return -Err.Options; // [MQTT-3.1.2-22]
  o = room(b, o, n);
  if (o < 0) return o;
  o = writeHeader(b, o, T.CONNECT << 4, n);
  b[o++] = 0;
  b[o++] = 4;
  o = writeStr(b, o, "MQTT");
  b[o++] = 4; // protocol level
  b[o++] = flags;
  b[o++] = ka >> 8;
  b[o++] = ka & 255;
  o = writeField(b, o, id); // [MQTT-3.1.3-1] order: id, will topic, will message, user, password
  if (w) {
    o = writeField(b, o, w.topic);
    b[o++] = nwp >> 8;
    b[o++] = nwp & 255;
    o = writePayload(b, o, w.payload);
  }
  if (nu || flags & 128) o = writeField(b, o, u as string);
  if (flags & 64) {
    b[o++] = np >> 8;
    b[o++] = np & 255;
    o = writePayload(b, o, pw);
  }
  return o;
}
