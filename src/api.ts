// mqtt.connect(): options and their defaults per target, then a Client. Invalid options throw
// here, synchronously, with a numeric code, since no listener could hear an event yet.
import { Err } from "./errors";
import { Client, Options, payloadOf } from "./client";
import { Platform } from "./platform/types";

/** A target's defaults: its buffer sizes and timing. */
export interface Defaults {
  rxSize: number;
  outboxSize: number;
  queueSize: number;
  inflight: number;
}

function bad(): never {
  var e: any = new Error("mqttiny error " + Err.Options);
  e.code = Err.Options;
  throw e;
}

/**
 * Options from `url` ("mqtt://host:port", "mqtts://host") and `opts`, with the target's
 * defaults; throws code 106 for options that cannot work.
 */
export function options(url: any, opts: any, def: Defaults): Options {
  var o: any = {}, k: any, m: any;
  if (typeof url == "object" && url) {
    opts = url;
    url = null;
  }
  for (k in opts || {}) o[k] = opts[k];
  if (typeof url == "string") {
    // By hand, not a RegExp: Espruino 2v29's RegExp has no `?` quantifier (/^mqtts?$/ fails).
    // MQTT over TCP or TLS only: ws:// and the like are refused rather than tried as TCP.
    var i = url.indexOf("://"), sch = url.slice(0, i), hp = url.slice(i + 3).split("/")[0], c = hp.indexOf(":");
    var tls = sch == "mqtts" || sch == "tls" || sch == "ssl";
    if (!(tls || sch == "mqtt" || sch == "tcp") || !hp || !c) bad();
    o.host = o.host || (c < 0 ? hp : hp.slice(0, c));
    if (c > 0) o.port = +hp.slice(c + 1) || bad();
    if (tls) o.tls = o.tls || true;
  }
  o.host = o.host || "localhost";
  o.port = o.port || (o.tls ? 8883 : 1883);
  if (o.clientId == null) {
    if (o.clean === false) bad(); // a random id can never resume a session
    o.clientId = "mqttiny" + Math.random().toString(36).slice(2, 10);
  }
  o.clean = o.clean !== false;
  o.keepalive = o.keepalive == null ? 60 : o.keepalive;
  o.reconnectPeriod = o.reconnectPeriod == null ? 1000 : o.reconnectPeriod;
  o.reconnectMax = o.reconnectMax || 60000;
  o.connectTimeout = o.connectTimeout || 10000;
  for (k in def) o[k] = o[k] || (def as any)[k];
  if (o.password != null && payloadOf(o.password) === undefined) bad();
  if (!(o.inflight >= 1 && o.queueSize >= 1 && o.rxSize >= 16 && o.outboxSize >= 16)) bad();
  return o;
}

/** The `connect` a target exports, over its platform and defaults. */
export function connector(p: () => Platform, def: Defaults) {
  return function (url?: any, opts?: any) {
    return new Client(options(url, opts, def), p());
  };
}
