// mqtt.connect(): options and their defaults per target, then a Client. The check piece adds the
// checks of option values (code 106, thrown here, since no listener could hear an event yet).
import { Err } from "./errors";
import { Client, Options, mqttError } from "./client";
import { Platform } from "./platform/types";

/** A target's defaults: its buffer sizes and timing. */
export interface Defaults {
  rxSize: number;
  outboxSize: number;
  queueSize: number;
  inflight: number;
}

export function badOptions(): never {
  throw mqttError(Err.Options);
}

/**
 * Options from `url` ("mqtt://host:port", "mqtts://host") and `opts`, with the target's defaults;
 * throws code 106 for a URL it cannot use.
 */
export function options(url: any, opts: any, def: Defaults): Options {
  var o: any = {}, k: any, d: any, hp: any, tls: any;
  if (url && typeof url == "object") {
    opts = url;
    url = 0;
  }
  // Not for-in over null: Espruino 2v29 throws there.
  if (opts) for (k in opts) o[k] = opts[k];
  if (url) {
    // By hand, not a RegExp: Espruino 2v29's RegExp has no `?` quantifier (/^mqtts?$/ fails).
    // MQTT over TCP or TLS only: ws:// and the like are refused rather than tried as TCP.
    k = String(url).split("://");
    hp = (k[1] || "").split("/")[0].split(":");
    // Compared whole: Espruino 2v29's String indexOf also "finds" a needle whose start matches
    // the end of the string (" mqtts tls ssl ".indexOf(" mqtt ") is 14).
    tls = k[0] == "mqtts" || k[0] == "tls" || k[0] == "ssl";
    if (!(tls || k[0] == "mqtt" || k[0] == "tcp") || !hp[0] || hp[2] != null || (hp.length > 1 && !(+hp[1] > 0))) badOptions();
    o.host = o.host || hp[0];
    if (hp[1]) o.port = +hp[1];
    if (tls) o.tls = o.tls || true;
  }
  if (o.clientId == null) {
    if (o.clean === false) badOptions(); // a random id can never resume a session
    o.clientId = "mqttiny" + Math.random().toString(36).slice(2, 10);
  }
  o.clean = o.clean !== false;
  d = { host: "localhost", port: o.tls ? 8883 : 1883, keepalive: 60, reconnectPeriod: 1000, reconnectMax: 60000, connectTimeout: 10000 };
  for (k in def) d[k] = (def as any)[k];
  // 0 is a value for keepalive and reconnectPeriod (off); for the others it means the default.
  for (k in d) if (k == "keepalive" || k == "reconnectPeriod" ? o[k] == null : !o[k]) o[k] = d[k];
  return o;
}

/** The `connect` a target exports, over its platform and defaults. */
export function connector(p: () => Platform, def: Defaults) {
  var plat: Platform;
  return function (url?: any, opts?: any) {
    // One platform object for every client: it has no state, and on Espruino its functions would
    // otherwise cost about 100 JsVars per client.
    return new (Client as any)(options(url, opts, def), (plat = plat || p()));
  };
}
