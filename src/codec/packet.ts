// The fixed header shared by every packet: type and flags, then the Remaining Length.
import { Err } from "../errors";

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
  do {
    var d = n & 127;
    n >>>= 7;
    b[o++] = n ? d | 128 : d;
  } while (n);
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
