/**
 * Every failure mqttiny reports is one of these numbers: encoders return them (negated) instead of
 * an end offset, the decoder stops with one, and the client hands them to callbacks and `error`
 * listeners as `err.code`. A `const enum`: the compiler inlines the numbers, so the table costs no
 * bytes in a bundle. The numbers are stable; README lists them.
 */
export const enum Err {
  // 1xx: bad input from the application
  /** Topic name empty, with a wildcard, with U+0000, ill-formed UTF-8, or over 65,535 bytes. */
  Topic = 101,
  /** Topic filter malformed ('#' not last or not a whole level, '+' not a whole level, empty...). */
  Filter = 102,
  /** QoS outside what the call allows. */
  Qos = 103,
  /** Payload (or the whole packet) larger than the target allows / the outbox can ever hold. */
  TooBig = 104,
  /** A string field (client id, user name, will topic) is not a valid MQTT UTF-8 string. */
  String = 105,
  /** Options that cannot work (e.g. clean:false without clientId, packet id out of range). */
  Options = 106,
  /** The outbox has no room now; retry later (QoS 1 back-pressure). */
  Full = 107,
  /** The client was ended; nothing more is sent. */
  Ended = 108,
  /** The caller's buffer is too small for the packet; nothing was written. */
  NoRoom = 109,

  // 2xx: malformed or unexpected bytes from the network (the connection is closed, except 210)
  /** Remaining Length longer than 4 bytes. */
  Length = 201,
  /** Reserved fixed-header flag bits not as in Table 2.2, QoS 3, or DUP on QoS 0 [MQTT-2.2.2-2]. */
  Flags = 202,
  /** A packet type a server never sends (CONNECT, SUBSCRIBE, PINGREQ, ..., 0 or 15). */
  Type = 203,
  /** A length that does not fit the packet type, or a field running past the packet's end. */
  Size = 204,
  /** An incoming topic that is empty, has a wildcard, U+0000 or ill-formed UTF-8 [MQTT-1.5.3-1]. */
  BadTopic = 205,
  /** Packet identifier 0 [MQTT-2.3.1-1]. */
  ZeroId = 206,
  /** CONNACK with reserved bits set or an unknown return code. */
  Connack = 207,
  /** SUBACK return code other than 0, 1, 2 or 0x80 [MQTT-3.9.3-2]. */
  Suback = 208,
  /** A packet larger than the receive buffer that cannot be skipped (not a PUBLISH, or its topic does not fit). */
  TooLarge = 209,
  /** A PUBLISH larger than the receive buffer was skipped (acknowledged if QoS 1); the connection stays up. */
  Skipped = 210,
  /** A packet out of place: anything before CONNACK, a second CONNACK. */
  Unexpected = 211,
  /** A SUBACK whose number of return codes differs from the number of filters. */
  SubackCount = 212,
  /** A QoS 2 PUBLISH on a target without QoS 2 (espruino-esp8266, espruino-lite), which never subscribes for it. */
  Qos2 = 213,
  /**
   * A PUBREC or PUBCOMP that answers no QoS 2 message at that step: an unknown packet id, a
   * PUBCOMP before the PUBREL, a second PUBREC after it, either for a QoS 1 message.
   */
  Unmatched = 214,
  /**
   * A QoS 2 message arrived while `qos2Held` received ones were waiting for their PUBREL: it is
   * neither delivered nor acknowledged, and the broker sends it again after the reconnect.
   */
  HeldFull = 215,
  /**
   * A saved session (the session piece) that cannot be used: truncated, changed, of another
   * format or another client id. The client starts without it.
   */
  Session = 216,

  // 3xx: the connection
  /** CONNACK 1: unacceptable protocol version. Reconnecting stops. */
  Refused = 300,
  /** CONNACK 1..5 are reported as 300 + return code: */
  RefusedProtocol = 301,
  RefusedIdentifier = 302,
  RefusedUnavailable = 303,
  RefusedCredentials = 304,
  RefusedNotAuthorized = 305,
  /** No CONNACK within connectTimeout. */
  ConnectTimeout = 310,
  /** No packet from the broker within the wait after a PINGREQ: the link is dead. */
  PingTimeout = 311,
  /** The socket reported an error (the platform's code is in err.errno). */
  Socket = 312,
  /** TLS failure: handshake failed or the server certificate did not verify. */
  Tls = 314,
  /** The platform could not allocate memory (Espruino: socket.write threw, or a string could not be made). */
  NoMemory = 315,
  /** The broker refused a subscription (SUBACK 0x80). */
  SubscribeRefused = 316,
  /** An application handler threw; the client carried on. */
  Handler = 317,
  /** The platform has no TLS (ESP8266). */
  NoTls = 318,
}
