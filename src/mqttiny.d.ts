// Public typings of mqttiny, shipped beside every bundle (dist/<target>/mqttiny.d.ts). The same
// API on every target; `Payload` and message values differ by platform as noted.

/** Numeric error codes: `err.code` of every error mqttiny reports. Stable; see README. */
export declare const enum ErrorCode {
  /** Topic name empty, with a wildcard, U+0000, ill-formed UTF-8 or over 65,535 bytes. */
  Topic = 101,
  /** Topic filter malformed. */
  Filter = 102,
  /** QoS outside what the call allows (0 or 1; 0 on espruino-lite). */
  Qos = 103,
  /** Payload larger than the outbox (or the target) can ever hold. */
  TooBig = 104,
  /** A string field (client id, user name) is not a valid MQTT UTF-8 string. */
  String = 105,
  /** Options or arguments that cannot work (wrong types, clean:false without clientId...). */
  Options = 106,
  /** The outbox is full now (espruino-lite: not connected); retry later. */
  Full = 107,
  /** The client was ended. */
  Ended = 108,
  /** Remaining Length longer than 4 bytes. */
  Length = 201,
  /** Reserved flag bits, QoS 3, or DUP on QoS 0. */
  Flags = 202,
  /** A packet type a server never sends. */
  Type = 203,
  /** A length that does not fit the packet type, or a field past the packet's end. */
  Size = 204,
  /** An incoming topic that is empty, has a wildcard, U+0000 or ill-formed UTF-8. */
  BadTopic = 205,
  /** Packet identifier 0. */
  ZeroId = 206,
  /** CONNACK with reserved bits set or an unknown return code. */
  Connack = 207,
  /** SUBACK return code other than 0, 1, 2 or 0x80. */
  Suback = 208,
  /** A packet larger than the receive buffer that cannot be skipped. */
  TooLarge = 209,
  /** A PUBLISH larger than the receive buffer was skipped (acknowledged if QoS 1); the connection stays up. */
  Skipped = 210,
  /** A packet out of place: anything before CONNACK, a second CONNACK. */
  Unexpected = 211,
  /** A SUBACK whose number of codes differs from the number of filters. */
  SubackCount = 212,
  /** A QoS 2 PUBLISH (never subscribed for). */
  Qos2 = 213,
  /** A PUBREC or PUBCOMP that matches no QoS 2 message at that step (unknown id, PUBCOMP before PUBREL). */
  Unmatched = 214,
  /** A QoS 2 message arrived while `qos2Held` received ones wait for their PUBREL; the broker resends it. */
  HeldFull = 215,
  /** A saved session (mqttiny-session) truncated, changed or of another client id: the client started without it. */
  Session = 216,
  /** CONNACK 1: unacceptable protocol version; reconnecting stops. */
  RefusedProtocol = 301,
  /** CONNACK 2: identifier rejected; retried at reconnectMax. */
  RefusedIdentifier = 302,
  /** CONNACK 3: server unavailable; retried with the normal backoff. */
  RefusedUnavailable = 303,
  /** CONNACK 4: bad user name or password; retried at reconnectMax. */
  RefusedCredentials = 304,
  /** CONNACK 5: not authorised; retried at reconnectMax. */
  RefusedNotAuthorized = 305,
  /** No CONNACK within connectTimeout. */
  ConnectTimeout = 310,
  /** Nothing from the broker within the wait after a PINGREQ: the link is dead. */
  PingTimeout = 311,
  /** The socket reported an error (the platform's own code is in `err.errno`). */
  Socket = 312,
  /** TLS handshake or certificate verification failed. */
  Tls = 314,
  /** The platform could not allocate memory (Espruino). */
  NoMemory = 315,
  /** The broker refused a subscription (SUBACK 0x80). */
  SubscribeRefused = 316,
  /** An application handler threw; the client carried on. */
  Handler = 317,
  /** TLS asked for on a target without TLS (ESP8266). */
  NoTls = 318,
}

/** An Error with a numeric code; `errno` holds the platform's own code where there is one. */
export interface MqttError extends Error {
  code: ErrorCode;
  errno?: any;
}

/**
 * What can be published: a string (on Espruino an 8-bit string whose chars are the bytes: text
 * typed on a board is already UTF-8), a Uint8Array (a Buffer on Node) or an ArrayBuffer.
 */
export type Payload = string | Uint8Array | ArrayBuffer;

/**
 * A received payload: an 8-bit string on Espruino targets, a Buffer on the node target.
 * Declared loosely so one typing serves both.
 */
export type MessagePayload = any;

/**
 * Quality of service. 2 (exactly once) on the node, espruino-esp32 and espruino-stm32 targets; the
 * espruino-esp8266 and espruino-lite bundles refuse it with 103 (lite refuses 1 too).
 */
export type QoS = 0 | 1 | 2;

export interface PacketInfo {
  qos: QoS;
  retain: boolean;
  dup: boolean;
}

export type MessageHandler = (topic: string, payload: MessagePayload, packet: PacketInfo) => void;

export interface Will {
  topic: string;
  payload?: Payload;
  qos?: 0 | 1 | 2;
  retain?: boolean;
}

export interface ConnectOptions {
  host?: string;
  port?: number;
  clientId?: string;
  clean?: boolean;
  /** Seconds; 0 turns keepalive off. Default 60. */
  keepalive?: number;
  username?: string;
  password?: Payload;
  will?: Will;
  /** First backoff step in ms (default 1000); 0 turns automatic reconnecting off. */
  reconnectPeriod?: number;
  /** Largest backoff step in ms (default 60000). */
  reconnectMax?: number;
  /** Milliseconds to wait for CONNACK (default 10000); also the most end() waits. */
  connectTimeout?: number;
  /** true, or options for the platform's tls.connect (ca, cert, key, rejectUnauthorized...). */
  tls?: boolean | { [option: string]: any };
  /**
   * The largest packet body received whole, in bytes (default per target): the receive buffer on
   * Node; on a board the most collected of a packet that spans chunks (nothing is held between packets).
   */
  rxSize?: number;
  /** Bytes of encoded publishes the outbox holds, one state byte each counted in (default per target). */
  outboxSize?: number;
  /** Most publishes in the outbox at once (default per target). */
  queueSize?: number;
  /** Most unacknowledged QoS 1 and QoS 2 publishes on the wire (default per target). */
  inflight?: number;
  /**
   * QoS 2 targets: most received QoS 2 messages waiting for their PUBREL, whose ids the client holds
   * so that it never delivers one twice (default 32 on boards, 65,535 on Node). One more is error 215.
   */
  qos2Held?: number;
  /**
   * Node: most QoS 2 publishes in flight at once, within `inflight` (default 20). Mosquitto 2
   * acknowledges a QoS 2 PUBLISH beyond its `max_inflight_messages` (20 by default) and then drops
   * it: raise this only with the broker's limit.
   */
  qos2Inflight?: number;
}

export interface PublishOptions {
  qos?: QoS;
  retain?: boolean;
}

export interface SubscribeOptions {
  qos?: QoS;
  /** Called for messages matching these filters, besides the `message` event. */
  handler?: MessageHandler;
}

export interface Granted {
  topic: string;
  /** Granted QoS, or 128 when the broker refused the filter. */
  qos: number;
}

export interface Connack {
  sessionPresent: boolean;
  returnCode: number;
}

export interface Stats {
  sent: number;
  acked: number;
  resent: number;
  received: number;
  skipped: number;
  ignored: number;
  reconnects: number;
  errors: number;
}

export type Callback = (err: MqttError | null) => void;

export interface Client {
  readonly connected: boolean;
  readonly stats: Stats;
  on(event: "connect", fn: (connack: Connack) => void): this;
  on(event: "message", fn: MessageHandler): this;
  on(event: "error", fn: (err: MqttError) => void): this;
  on(event: "close" | "offline" | "reconnect" | "end", fn: () => void): this;
  removeListener(event: string, fn: (...args: any[]) => void): this;
  off(event: string, fn: (...args: any[]) => void): this;
  publish(topic: string, payload: Payload, opts?: PublishOptions | null, cb?: Callback): this;
  publish(topic: string, payload: Payload, cb?: Callback): this;
  subscribe(filters: string | string[], opts?: SubscribeOptions | null, cb?: (err: MqttError | null, granted?: Granted[]) => void): this;
  subscribe(filters: string | string[], cb?: (err: MqttError | null, granted?: Granted[]) => void): this;
  /** On boards, with the subs piece (mqttiny-subs). */
  unsubscribe(filters: string | string[], cb?: Callback): this;
  reconnect(): this;
  end(force?: boolean, cb?: () => void): this;
  end(cb?: () => void): this;
}

/** Connects to `url` ("mqtt://host:port", "mqtts://host") with `options`; throws code 106 on invalid options. */
export declare function connect(url: string, options?: ConnectOptions): Client;
export declare function connect(options: ConnectOptions): Client;
