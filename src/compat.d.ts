// Typings of mqttiny-compat (src/compat.ts), shipped beside each Espruino bundle as
// dist/<target>/mqttiny-compat.d.ts: the API of Espruino's own MQTT module
// (https://www.espruino.com/MQTT) over mqttiny. It loads "mqttiny" with require() when connect()
// runs, so both modules must be on the board.
import type { Client, MqttError } from "./mqttiny";

/** The options of Espruino's MQTT module that mqttiny-compat passes on. */
export interface CompatOptions {
  /** Default: mqttiny's random id. */
  client_id?: string;
  /** Seconds (default 60). */
  keep_alive?: number;
  /** Default 1883. */
  port?: number;
  /** Default true; false needs a client_id (a random id can never resume a session). */
  clean_session?: boolean;
  username?: string;
  password?: string;
  /** false: no automatic reconnecting (mqttiny's own backoff is on by default). */
  reconnect?: boolean;
}

/** What the `publish` event carries, as Espruino's module gives it. */
export interface CompatPublish {
  topic: string;
  /** The payload as a string (on Espruino an 8-bit string of the bytes). */
  message: string;
  dup: number;
  qos: number;
  retain: number;
}

export interface CompatMQTT {
  /** True between CONNACK and the loss of the connection. */
  connected: boolean;
  /** The mqttiny client underneath, once connect() ran; null after disconnect(). */
  client: Client | null;
  on(event: "connected" | "connect" | "disconnected" | "close" | "subscribed" | "subscribed_fail" | "unsubscribed", fn: () => void): CompatMQTT;
  on(event: "publish", fn: (pub: CompatPublish) => void): CompatMQTT;
  on(event: "message", fn: (topic: string, message: string) => void): CompatMQTT;
  on(event: "error", fn: (err: MqttError) => void): CompatMQTT;
  /** Connects (mqttiny then reconnects by itself); called again while a client exists, reconnects now. */
  connect(): void;
  /** Queued while offline (mqttiny's outbox); a message that is not a string, Uint8Array or ArrayBuffer is sent as String(message). */
  publish(topic: string, message: any, opts?: { qos?: 0 | 1; retain?: boolean }): void;
  /** A filter, a list of filters, or { filter: qos }. */
  subscribe(topics: string | string[] | { [filter: string]: 0 | 1 }, opts?: { qos?: 0 | 1 }): void;
  unsubscribe(topic: string | string[]): void;
  /** Sends what the outbox holds, then DISCONNECT; no reconnecting after it until connect(). */
  disconnect(): void;
}

/** Espruino's `require("MQTT").create(server, options)`: `server` is the broker's host name or IP. */
export declare function create(server: string, options?: CompatOptions): CompatMQTT;
/** Espruino's `require("MQTT").connect(options)`: create(options.host, options), then connect(). */
export declare function connect(options: CompatOptions & { host: string }): CompatMQTT;
