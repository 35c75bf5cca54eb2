// SUBSCRIBE and UNSUBSCRIBE (3.8, 3.10): a packet id, then one or more filters.
import { Err } from "../errors";
import { headerSize, room, writeHeader, T } from "./packet";
import { badFilter } from "./topic";
import { badId } from "./publish";
import { badStr, strBytes, writeField } from "./strings";

/**
 * Encodes SUBSCRIBE (when `qos` is given: one number for every filter, or one per filter) or
 * UNSUBSCRIBE (when `qos` is null) at `o`; returns the end offset or a negative Err. Flags are
 * 0010 [MQTT-3.8.1-1, MQTT-3.10.1-1]; at least one filter [MQTT-3.8.3-3, MQTT-3.10.3-2].
 */
export function encodeSubscribe(b: Uint8Array, o: number, id: number, filters: string[], qos: number | number[] | null): number {
  var k = filters.length, i, q;
  if (badId(id)) return -Err.Options;
  if (!k) return -Err.Filter;
  for (i = 0; i < k; i++) {
    if (badStr(filters[i]) || badFilter(filters[i])) return -Err.Filter;
    q = qos == null || typeof qos == "number" ? qos : qos[i];
    if (qos != null && q !== 0 && q !== 1 && q !== 2) return -Err.Qos; // [MQTT-3.8.3-4]
  }
  var n = subscribeLength(filters, qos);
  o = room(b, o, n);
  return o < 0 ? o : writeSubscribe(b, o, id, filters, qos, n);
}

/** Remaining Length of a SUBSCRIBE (qos given) or UNSUBSCRIBE (qos null) of valid filters. */
function subscribeLength(filters: string[], qos: any): number {
  for (var n = 2, i = 0; i < filters.length; i++) n += 2 + strBytes(filters[i]) + (qos != null ? 1 : 0);
  return n;
}

function writeSubscribe(b: Uint8Array, o: number, id: number, filters: string[], qos: any, n: number): number {
  o = writeHeader(b, o, ((qos != null ? T.SUBSCRIBE : T.UNSUBSCRIBE) << 4) | 2, n);
  b[o++] = id >> 8;
  b[o++] = id & 255;
  for (var i = 0; i < filters.length; i++) {
    o = writeField(b, o, filters[i]);
    if (qos != null) b[o++] = typeof qos == "number" ? qos : qos[i];
  }
  return o;
}

/** The SUBSCRIBE or UNSUBSCRIBE of valid filters (checked by the caller), in a buffer of its own. */
export function subscribePacket(id: number, filters: string[], qos: any): Uint8Array {
  var n = subscribeLength(filters, qos), b = new Uint8Array(headerSize(n) + n);
  writeSubscribe(b, 0, id, filters, qos, n);
  return b;
}
