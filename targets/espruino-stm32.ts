// STM32 boards: Espruino Pico (5,100 variables) and Espruino WiFi (8,190), TLS where the firmware has it.
export { Client } from "../src/client";
import { connector } from "../src/api";

/** Read by the build: each key becomes the literal of __KEY__ in this target's bundle. */
export const FEATURES = { ESPRUINO: true, QOS1: true, QOS2: true, TLS: true };

export var connect = connector({ rxSize: 1536, outboxSize: 2048, queueSize: 8, inflight: 2, qos2Held: 32 });
