// SUBSCRIBE and UNSUBSCRIBE (3.8, 3.10): a packet id, then one or more filters.
import { Err } from "../errors";
import { room, writeHeader, T } from "./packet";
import { badFilter } from "./topic";
import { badId } from "./publish";
import { strBytes, writeField } from "./strings";

/**
 * Encodes SUBSCRIBE (when `qos` is given: one number for every filter, or one per filter) or
 * UNSUBSCRIBE (when `qos` is null) at `o`; returns the end offset or a negative Err. Flags are
 * 0010 [MQTT-3.8.1-1, MQTT-3.10.1-1]; at least one filter [MQTT-3.8.3-3, MQTT-3.10.3-2].
 */
export function encodeSubscribe(
  b: Uint8Array,
  o: number,
  id: number,
  filters: string[],
  qos: number | number[] | null
): number {
  var k = filters.length, n = 2, i, q;
  if (badId(id)) return -Err.Options;
  if (!k) return -Err.Filter;
  for (i = 0; i < k; i++) {
    var f = filters[i], nf = typeof f == "string" ? strBytes(f) : -1;
    if (nf < 1 || nf > 65535 || badFilter(f)) return -Err.Filter;
    if (qos != null) {
      q = typeof qos == "number" ? qos : qos[i];
      if (q !== 0 && q !== 1 && q !== 2) return -Err.Qos; // [MQTT-3.8.3-4]
      n++;
    }
    n += 2 + nf;
  }
  o = room(b, o, n);
  if (o < 0) return o;
  o = writeHeader(b, o, ((qos != null ? T.SUBSCRIBE : T.UNSUBSCRIBE) << 4) | 2, n);
  b[o++] = id >> 8;
  b[o++] = id & 255;
  for (i = 0; i < k; i++) {
    o = writeField(b, o, filters[i]);
    if (qos != null) b[o++] = typeof qos == "number" ? qos : qos[i];
  }
  return o;
}
