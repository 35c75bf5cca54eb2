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
  var o: any = {}, k: any, i, sch, hp, c, tls;
  if (typeof url == "object" && url) {
    opts = url;
    url = null;
  }
  for (k in opts) o[k] = opts[k];
  if (typeof url == "string") {
    // By hand, not a RegExp: Espruino 2v29's RegExp has no `?` quantifier (/^mqtts?$/ fails).
    // MQTT over TCP or TLS only: ws:// and the like are refused rather than tried as TCP.
    i = url.indexOf("://");
    sch = url.slice(0, i);
    hp = url.slice(i + 3).split("/")[0];
    c = hp.indexOf(":");
    tls = sch == "mqtts" || sch == "tls" || sch == "ssl";
    if (!(tls || sch == "mqtt" || sch == "tcp") || !hp || !c) badOptions();
    o.host = o.host || (c < 0 ? hp : hp.slice(0, c));
    if (c > 0) o.port = +hp.slice(c + 1) || badOptions();
    if (tls) o.tls = o.tls || true;
  }
  if (o.clientId == null) {
    if (o.clean === false) badOptions(); // a random id can never resume a session
    o.clientId = "mqttiny" + Math.random().toString(36).slice(2, 10);
  }
  o.clean = o.clean !== false;
  var d: any = { host: "localhost", port: o.tls ? 8883 : 1883, keepalive: 60, reconnectPeriod: 1000, reconnectMax: 60000, connectTimeout: 10000 };
  for (k in def) d[k] = (def as any)[k];
  // 0 is a value for keepalive and reconnectPeriod (off); for the others it means the default.
  for (k in d) if (o[k] == null || (!o[k] && k != "keepalive" && k != "reconnectPeriod")) o[k] = d[k];
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
