// Node.js: net and tls, Buffer payloads, larger buffers.
import "../src/full";
import { connector } from "../src/api";
import { nodePlatform, processEnv } from "../src/platform/node";

/** Read by the build: each key becomes the literal of __KEY__ in this target's bundle. */
export const FEATURES = { ESPRUINO: false, QOS1: true, TLS: true };

export var connect = connector(function () {
  return nodePlatform(processEnv(), 250);
}, { rxSize: 8192, outboxSize: 16384, queueSize: 64, inflight: 16 });
