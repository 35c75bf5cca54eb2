// PUBLISH (3.3) and the acknowledgements that answer it (PUBACK, PUBREC, PUBREL, PUBCOMP).
import { Err } from "../errors";
import { headerSize, MAX_LENGTH, room, writeHeader, T } from "./packet";
import { badStr, Payload, payloadBytes, strBytes, writePayload } from "./strings";

/**
 * Remaining Length of a PUBLISH, or a negative Err when topic or payload are invalid (a topic's
 * UTF-8 is badStr's to check, the QoS the caller's: the client checks it against what the target
 * supports).
 */
export function publishBody(topic: string, payload: Payload | null | undefined, qos: number): number {
  var nt = strBytes(topic), np = __ESPRUINO__ ? (payload ? payload.length : 0) : payloadBytes(payload), i = 0, c;
  // badName's loop, and on Espruino payloadBytes' (a char above 0xFF is no byte), in line: calls
  // would be functions of their own in the bundle.
  for (; i < topic.length; i++) if (__ESPRUINO__ ? topic[i] == "#" || topic[i] == "+" : (c = topic.charCodeAt(i)) == 35 || c == 43) nt = 0;
  if (__ESPRUINO__) for (i = 0; typeof payload == "string" && i < np; i++) if (payload.charCodeAt(i) > 255) np = -1;
  if (nt < 1 || nt > 65535) return -Err.Topic;
  if (np < 0) return -Err.TooBig;
  np += 2 + nt + (qos ? 2 : 0);
  return np > MAX_LENGTH ? -Err.TooBig : np;
}

/** publishBody with every check, the topic's first (its UTF-8 too), then the QoS, then the payload. */
function checkedBody(topic: string, payload: Payload | null | undefined, qos: number): number {
  var n = badStr(topic) ? -Err.Topic : publishBody(topic, payload, qos);
  return n != -Err.Topic && qos !== 0 && qos !== 1 && qos !== 2 ? -Err.Qos : n;
}

/**
 * Bytes the PUBLISH takes on the wire (fixed header included), or a negative Err when it is
 * invalid: lets a caller reserve exactly that room before encoding.
 */
export function publishSize(topic: string, payload: Payload | null | undefined, qos: number): number {
  var n = checkedBody(topic, payload, qos);
  return n < 0 ? n : headerSize(n) + n;
}

/** True unless `id` is a packet identifier: an integer 1..65535 [MQTT-2.3.1-1]. */
export function badId(id: number): boolean {
  return !id || (id & 65535) !== id;
}

/**
 * Encodes PUBLISH at `o`; returns the end offset or a negative Err. `id` is used for QoS 1 and 2
 * only; DUP is refused on QoS 0 [MQTT-3.3.1-2].
 */
export function encodePublish(
  b: Uint8Array,
  o: number,
  topic: string,
  payload: Payload | null | undefined,
  qos: number,
  retain: boolean,
  dup: boolean,
  id: number
): number {
  var n = checkedBody(topic, payload, qos);
  if (n < 0) return n;
  if (qos ? badId(id) : dup) return -Err.Options;
  o = room(b, o, n);
  return o < 0 ? o : writePublish(b, o, topic, payload, qos, retain, dup, id, n);
}

/** Writes a PUBLISH of Remaining Length `n` (publishBody) at `o`, already known to fit; returns the end. */
export function writePublish(b: Uint8Array, o: number, topic: string, payload: Payload | null | undefined, qos: number, retain: any, dup: boolean, id: number, n: number): number {
  o = writeHeader(b, o, (T.PUBLISH << 4) | (dup ? 8 : 0) | (qos << 1) | (retain ? 1 : 0), n);
  o = writePayload(b, o, topic, 1);
  if (qos) {
    b[o++] = id >> 8;
    b[o++] = id & 255;
  }
  return writePayload(b, o, payload);
}

/**
 * Offset of the packet identifier of the QoS>0 PUBLISH encoded at `o`: lets a caller that keeps
 * encoded packets set DUP or renumber one in place, without encoding it again.
 */
export function publishIdOffset(b: Uint8Array, o: number): number {
  var i = o + 1;
  while (b[i++] & 128);
  return i + 2 + ((b[i] << 8) | b[i + 1]);
}

/**
 * Encodes a two-byte acknowledgement: PUBACK, PUBREC, PUBREL (flags 0010 [MQTT-3.6.1-1]),
 * PUBCOMP, or UNSUBACK's client-side kin; `type` is the packet type.
 */
export function encodeAck(b: Uint8Array, o: number, type: number, id: number): number {
  if (badId(id)) return -Err.Options;
  if (o + 4 > b.length) return -Err.NoRoom;
  b[o] = (type << 4) | (type == T.PUBREL ? 2 : 0);
  b[o + 1] = 2;
  b[o + 2] = id >> 8;
  b[o + 3] = id & 255;
  return o + 4;
}

/** Encodes a packet with no body: PINGREQ or DISCONNECT (E0 00 [MQTT-3.14.1-1]). */
export function encodeEmpty(b: Uint8Array, o: number, type: number): number {
  if (o + 2 > b.length) return -Err.NoRoom;
  b[o] = type << 4;
  b[o + 1] = 0;
  return o + 2;
}
