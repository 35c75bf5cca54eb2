// mqtt.connect(): options and their defaults per target, then a Client. The check piece adds the
// checks of option values (code 106, thrown here, since no listener could hear an event yet).
import { Err } from "./errors";
import { Client, Options, mqttError } from "./client";
import { Platform } from "./platform/types";
import { boardEnv, espruinoPlatform } from "./platform/espruino";

/** A target's defaults: its buffer sizes and timing. */
export interface Defaults {
  rxSize: number;
  outboxSize: number;
  queueSize: number;
  inflight: number;
  /** QoS 2 targets: see Options.qos2Held. */
  qos2Held?: number;
  /** Node: see Options.qos2Inflight. */
  qos2Inflight?: number;
}

/**
 * Options from `url` ("mqtt://host:port", "mqtts://host") and `opts`, with the target's defaults;
 * throws code 106 for a URL it cannot use.
 */
export function options(url: any, opts: any, def: Defaults): Options {
  var o: any = {}, k: any, d: any, hp: any, s: any, bad: any;
  if (url && typeof url == "object") {
    opts = url;
    url = 0;
  }
  // Not for-in over null: Espruino 2v29 throws there.
  if (opts) for (k in opts) o[k] = opts[k];
  if (url) {
    // By hand, not a RegExp: Espruino 2v29's RegExp has no `?` quantifier (/^mqtts?$/ fails).
    k = ("" + url).split("://");
    hp = (k[1] || "").split("/")[0].split(":");
    // The scheme looked up, not searched: Espruino 2v29's String indexOf also "finds" a needle
    // whose start matches the end of the string. 1: MQTT over TCP, 2: over TLS; anything else
    // (ws:// and the like, refused rather than tried as TCP; an inherited key) is not above 0.
    s = { mqtt: 1, tcp: 1, mqtts: 2, tls: 2, ssl: 2 }[k[0]];
    // A host, and at most one ":", followed by a port above 0 ("1e3" and "0x50" are numbers too).
    bad = !(s > 0) || !hp[0] || hp.length + !(hp[1] > 0) > 2;
    o.host = o.host || hp[0];
    if (hp[1]) o.port = +hp[1];
    o.tls = o.tls || s > 1; // the app's TLS options, or true for TLS schemes (false, not absent, for TCP)
  }
  if (o.clientId == null) {
    bad = bad || o.clean === false; // a random id can never resume a session
    o.clientId = "mqttiny" + Math.random().toString(36).slice(2, 10);
  }
  if (bad) throw mqttError(Err.Options);
  o.clean = o.clean !== false;
  // keepalive and reconnectPeriod first: 0 is a value for them (off); for the others it means the default.
  d = { keepalive: 60, reconnectPeriod: 1000, host: "localhost", port: o.tls ? 8883 : 1883, reconnectMax: 60000, connectTimeout: 10000 };
  for (k in def) d[k] = (def as any)[k];
  s = 0;
  for (k in d) if (s++ < 2 ? o[k] == null : !o[k]) o[k] = d[k];
  return o;
}

/** The `connect` an Espruino target exports, with its defaults. */
export function connector(def: Defaults) {
  var plat: Platform;
  return function (url?: any, opts?: any) {
    // One platform object for every client, made with the first: it has no state, and its
    // functions would otherwise cost about 100 JsVars per client.
    return new (Client as any)()._init(options(url, opts, def), (plat = plat || espruinoPlatform(boardEnv(), 1000)));
  };
}
