// The smallest boards: QoS 0 only (a small outbox of QoS 0 publishes), still with strict framing, ping timeout and reconnect.
export { Client } from "../src/client";
import { connector } from "../src/api";

/** Read by the build: each key becomes the literal of __KEY__ in this target's bundle. */
export const FEATURES = { ESPRUINO: true, QOS1: false, QOS2: false, TLS: false };

export var connect = connector({ rxSize: 256, outboxSize: 256, queueSize: 4, inflight: 1 });
