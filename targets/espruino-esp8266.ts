// ESP8266 boards: about 1,600 variables in all, no TLS. Small buffers; load it from Storage.
export { Client } from "../src/client";
import { connector } from "../src/api";

/** Read by the build: each key becomes the literal of __KEY__ in this target's bundle. */
export const FEATURES = { ESPRUINO: true, QOS1: true, QOS2: false, TLS: false };

export var connect = connector({ rxSize: 512, outboxSize: 1024, queueSize: 8, inflight: 2 });
