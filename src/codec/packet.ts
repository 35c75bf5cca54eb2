// The fixed header shared by every packet: type and flags, then the Remaining Length; and the
// packets sent once in a while (CONNECT, SUBSCRIBE, UNSUBSCRIBE) built from a list of parts.
import { Err } from "../errors";
import { payloadBytes, writePayload } from "./strings";

/** Control packet types (first byte's high nibble). Inlined by the compiler. */
export const enum T {
  CONNECT = 1,
  CONNACK = 2,
  PUBLISH = 3,
  PUBACK = 4,
  PUBREC = 5,
  PUBREL = 6,
  PUBCOMP = 7,
  SUBSCRIBE = 8,
  SUBACK = 9,
  UNSUBSCRIBE = 10,
  UNSUBACK = 11,
  PINGREQ = 12,
  PINGRESP = 13,
  DISCONNECT = 14,
}

/** Largest Remaining Length the 4-byte encoding can carry (2.2.3). */
export const MAX_LENGTH = 268435455;

/** Bytes of the fixed header for a packet whose Remaining Length is `n`. */
export function headerSize(n: number): number {
  return n < 128 ? 2 : n < 16384 ? 3 : n < 2097152 ? 4 : 5;
}

/**
 * Writes the fixed header (first byte, then `n` in the minimal varint form) at `o` and returns
 * the offset of the variable header. The caller has already checked that the whole packet fits.
 */
export function writeHeader(b: Uint8Array, o: number, first: number, n: number): number {
  b[o++] = first;
  do b[o++] = (n & 127) | (n > 127 ? 128 : 0);
  while ((n >>>= 7));
  return o;
}

/**
 * Start of a packet of Remaining Length `n` at `o` in `b`, or a negative error when it would not
 * fit (or is longer than MQTT allows). Computing the size first means a failed encode writes
 * nothing that a caller could mistake for a packet.
 */
export function room(b: Uint8Array, o: number, n: number): number {
  return n > MAX_LENGTH ? -Err.TooBig : o + headerSize(n) + n > b.length ? -Err.NoRoom : o;
}

/**
 * A packet in a buffer of its own: first byte `first`, then a body of `parts`, each a number (one
 * byte) or a string or bytes (a field: 16-bit length, then the bytes). The parts are valid (the
 * caller checked them); the packet is rare enough that its list and buffer are worth the bytes
 * of code they save.
 */
export function packetOf(first: number, parts: any[]): Uint8Array {
  // On Espruino a part's length is its bytes, and a number has none (NaN: one byte).
  for (var n = 0, i = 0, b, o; i < parts.length; i++) n += __ESPRUINO__ ? parts[i].length + 2 || 1 : typeof parts[i] == "number" ? 1 : 2 + payloadBytes(parts[i]);
  b = new Uint8Array(headerSize(n) + n);
  for (o = writeHeader(b, 0, first, n), i = 0; i < parts.length; i++) o = !__ESPRUINO__ && typeof parts[i] == "number" ? ((b[o] = parts[i]), o + 1) : writePayload(b, o, parts[i], 1);
  return b;
}

/** Copies packet `p` into `b` at `o` (an encoder's API over packetOf); the end, or a negative Err. */
export function place(b: Uint8Array, o: number, p: Uint8Array): number {
  if (o + p.length > b.length) return -Err.NoRoom;
  b.set(p, o);
  return o + p.length;
}
