// Errors on Node: the message says what happened in words, with the code beside it and Node's
// own message when there is one ("mqttiny error 314: TLS handshake failed: unable to verify the
// first certificate"). Boards keep their short "mqttiny error <code>" (no table to carry).
import { Err } from "../errors";

var WORDS: any = {
  101: "invalid topic name",
  102: "invalid topic filter",
  103: "QoS not supported",
  104: "message larger than the outbox can ever hold",
  105: "invalid string (client id, user name or will topic)",
  106: "invalid options or arguments",
  107: "outbox full, retry after the 'drain' event",
  108: "client ended",
  109: "buffer too small",
  201: "malformed packet from the broker: Remaining Length over 4 bytes",
  202: "malformed packet from the broker: reserved flags",
  203: "malformed packet from the broker: a packet type a server never sends",
  204: "malformed packet from the broker: bad length",
  205: "invalid topic from the broker",
  206: "packet identifier 0 from the broker",
  207: "malformed CONNACK",
  208: "malformed SUBACK return code",
  209: "packet larger than the receive buffer (rxSize)",
  210: "message larger than the receive buffer (rxSize) skipped",
  211: "unexpected packet from the broker",
  212: "SUBACK with the wrong number of return codes",
  213: "QoS 2 message from the broker (not supported)",
  214: "PUBREC or PUBCOMP that matches no QoS 2 message at that step",
  215: "QoS 2 message while qos2Held received ones wait for their PUBREL",
  216: "saved session truncated, changed or of another client id: started without it",
  301: "connection refused: unacceptable protocol version",
  302: "connection refused: identifier rejected",
  303: "connection refused: server unavailable",
  304: "connection refused: bad user name or password",
  305: "connection refused: not authorized",
  310: "connect timeout: no CONNACK",
  311: "ping timeout: the link is dead",
  312: "socket error",
  314: "TLS handshake failed",
  315: "out of memory",
  316: "subscription refused by the broker",
  317: "a handler or callback threw",
  318: "TLS not available on this platform",
};

/**
 * The Error a listener or callback gets on Node: "mqttiny error 314: TLS handshake failed: unable
 * to verify the first certificate". `code` is ours; `errno` the platform's code (e.g.
 * "ECONNREFUSED"), or for 317 the value the handler threw; `cause` Node's own Error.
 */
export function nodeError(code: number, cause?: any): any {
  var m = "mqttiny error " + code + (WORDS[code] ? ": " + WORDS[code] : ""), e: any, x;
  if (cause != null) {
    // What a handler threw can be anything, even a value String() throws on (Object.create(null)).
    try {
      x = typeof cause == "object" && cause.message != null ? String(cause.message) : String(cause);
    } catch (y) {
      x = "";
    }
    if (x) m += ": " + x;
  }
  e = Error(m);
  e.code = code;
  if (cause !== undefined) {
    // A platform's Error: its code (as on other targets) in errno, the Error itself as cause.
    e.errno = code != Err.Handler && cause && typeof cause == "object" && cause.code !== undefined ? cause.code : cause;
    if (cause && typeof cause == "object") e.cause = cause;
  }
  return e;
}

