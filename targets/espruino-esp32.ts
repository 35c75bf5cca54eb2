// ESP32 boards: 3,000-4,000 usable variables, TLS from the system heap. Buffers fit Home Assistant discovery messages (~1 KB).
export { Client } from "../src/client";
import { connector } from "../src/api";

/** Read by the build: each key becomes the literal of __KEY__ in this target's bundle. */
export const FEATURES = { ESPRUINO: true, QOS1: true, QOS2: true, TLS: true };

export var connect = connector({ rxSize: 2048, outboxSize: 4096, queueSize: 16, inflight: 4, qos2Held: 32 });
