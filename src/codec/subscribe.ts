// SUBSCRIBE and UNSUBSCRIBE (3.8, 3.10): a packet id, then one or more filters.
import { Err } from "../errors";
import { packetOf, place, T } from "./packet";
import { badFilter } from "./topic";
import { badId } from "./publish";
import { badStr } from "./strings";

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
  // Espruino builds take one QoS per filter only (what the client passes).
  return place(b, o, subscribePacket(id, filters, __ESPRUINO__ && typeof qos == "number" ? filters.map(() => qos) : qos));
}

/**
 * The SUBSCRIBE (`qos`: one per filter, or on Node one number for all) or UNSUBSCRIBE (`qos` null)
 * of valid filters, in a buffer of its own.
 */
export function subscribePacket(id: number, filters: string[], qos: any): Uint8Array {
  for (var parts: any[] = [id >> 8, id & 255], i = 0; i < filters.length; i++) {
    parts.push(filters[i]);
    if (__ESPRUINO__ ? qos : qos != null) parts.push(__ESPRUINO__ || typeof qos != "number" ? qos[i] : qos);
  }
  // Flags 0010: SUBSCRIBE 0x82, UNSUBSCRIBE 0xA2.
  return packetOf((__ESPRUINO__ ? qos : qos != null) ? (T.SUBSCRIBE << 4) | 2 : (T.UNSUBSCRIBE << 4) | 2, parts);
}
