// Node.js: net and tls, Buffer payloads; memory on demand (src/node/node.ts).
import { Client } from "../src/full";
import { options } from "../src/api";
import { nodePlatform, processEnv } from "../src/platform/node";

/** Read by the build: each key becomes the literal of __KEY__ in this target's bundle. */
export const FEATURES = { ESPRUINO: false, QOS1: true, QOS2: true, TLS: true };

/** One platform for every client of the process: it holds nothing per client. */
var platform: any;

/**
 * outboxMax: the outbox's cap in bytes (8 MB; outboxSize is the cap when it is 0); queueSize: the
 * most publishes it holds. outboxMax is not among connector()'s defaults, where 0 would mean "the
 * default".
 */
var DEFAULTS = { rxSize: 8192, outboxSize: 16384, queueSize: 20000, inflight: 4096, qos2Held: 65535, qos2Inflight: 20 };

export function connect(url?: any, opts?: any) {
  var o: any = options(url, opts, DEFAULTS);
  if (o.outboxMax == null) o.outboxMax = 8388608;
  return new (Client as any)()._init(o, platform || (platform = nodePlatform(processEnv(), 250)));
}
