// Packets as 8-bit strings, one char per byte: the session's container on every target. Espruino's
// sockets take and deliver strings (Node's are read and written as latin1), and a string holds
// JsVars only while it exists, where a buffer holds them for good (measured in the real interpreter on the ESP8266 variant: a 1 KB Uint8Array takes
// 99 JsVars from the start; 8 queued 43-byte publishes as strings 59; none, 0). The values are
// valid (the caller checked them); strings are already bytes on Espruino (see strings.ts).
import { T } from "./packet";
import { payloadOf } from "./strings";

var chr = String.fromCharCode;
declare var Buffer: any;

/**
 * Node: the UTF-8 bytes of a string the app gave, as an 8-bit string (ASCII, the common case, as it
 * is). On Espruino a string is its bytes already: callers test the build's switch themselves, so
 * the board builds fold the call away (a call to an identity function would stay in the bundle).
 */
export function bytesOf(s: string): string {
  for (var i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) return Buffer.from(s, "utf8").toString("latin1");
  return s;
}

/**
 * Two bytes, big-endian: packet id `x` (a number), or the length of string `x` and then `x` (a
 * field). One function for both: one fewer on a board.
 */
export function u16(x: string | number): string {
  var n: any = typeof x == "string" ? x.length : x;
  return chr(n >> 8, n & 255) + (n === x ? "" : x);
}

/** First byte `first`, the Remaining Length of `body` (2.2.3), then `body`. */
export function packetText(first: number, body: string): string {
  for (var n = body.length, h = chr(first), x; ; ) {
    x = n & 127;
    n >>>= 7;
    h += chr(n ? x | 128 : x);
    if (!n) return h + body;
  }
}

/**
 * A payload as a string of its bytes: a string by bytesOf, bytes (Uint8Array, ArrayBuffer) through
 * `E.toString` on Espruino (undefined when it has no memory left for it), none as "", and 0 for
 * anything else (on Node, the caller checked it with payloadOf).
 */
export function bytesText(p: any, E?: any): any {
  return p == null ? "" : typeof p == "string" ? (__ESPRUINO__ ? p : bytesOf(p)) : !__ESPRUINO__ ? latin1(payloadOf(p)) : p instanceof Uint8Array || p instanceof ArrayBuffer ? E.toString(p) : 0;
}

/** Node: bytes as an 8-bit string. */
export function latin1(u: Uint8Array): string {
  return Buffer.from(u.buffer, u.byteOffset, u.length).toString("latin1");
}

/** The CONNECT of options `c` (as connectPacket makes it). */
export function connectText(c: any, E: any): string {
  var w = c.will, u = c.username, pw = u != null ? c.password : null, ka = c.keepalive;
  return packetText(
    T.CONNECT << 4,
    "\0\x04MQTT" +
      chr(4, (c.clean ? 2 : 0) | (w ? 4 | ((w.qos || 0) << 3) | (w.retain ? 32 : 0) : 0) | (u != null ? 128 : 0) | (pw != null ? 64 : 0), ka >> 8, ka & 255) +
      u16(__ESPRUINO__ ? c.clientId : bytesOf(c.clientId)) +
      // (A will payload or password that is none of these is the check piece's to refuse: "" here.)
      (w ? u16(__ESPRUINO__ ? w.topic : bytesOf(w.topic)) + u16(bytesText(w.payload, E) || "") : "") +
      (u != null ? u16(__ESPRUINO__ ? u : bytesOf(u)) : "") +
      (pw != null ? u16(bytesText(pw, E) || "") : "")
  );
}

/** The SUBSCRIBE (one QoS per filter in `q`) or, with `q` null, UNSUBSCRIBE of valid filters. */
export function subscribeText(id: number, f: string[], q: number[] | null): string {
  for (var s = u16(id), i = 0; i < f.length; i++) s += u16(__ESPRUINO__ ? f[i] : bytesOf(f[i])) + (q ? chr(q[i]) : "");
  return packetText(((q ? T.SUBSCRIBE : T.UNSUBSCRIBE) << 4) | 2, s);
}
