// mqttiny-check: the checks of what the app passes that a board can do without: option values
// (106, thrown by connect()), ill-formed UTF-8 and U+0000 in topics, filters and CONNECT strings
// (101, 102, 105), and in the topics of incoming messages (205). The core already refuses what
// would break the session: empty topics, wildcards where they do not belong, sizes, QoS.
import { Err } from "../errors";
import { badStr, badUtf8 } from "../codec/strings";
import { badConnect, ConnectFields } from "../codec/connect";
import { badFilter } from "../codec/topic";
import { mqttError, payloadOf } from "../client";

/** A string MQTT cannot carry, as the core's own checks will refuse it (an empty name or filter). */
function clean(s: any) {
  return typeof s == "string" && badStr(s) ? "" : s;
}

/**
 * A filter as SUBSCRIBE will encode it: one that failed only when written would stay in the
 * requests and fail again after every reconnect.
 */
function cleanFilter(f: any) {
  return typeof f == "string" && badFilter(f) ? "" : clean(f);
}

/** The fields of the CONNECT that options `o` make, ArrayBuffer payloads as bytes. */
function connectFields(o: any): ConnectFields {
  var w = o.will;
  return {
    clientId: o.clientId,
    clean: o.clean,
    keepalive: o.keepalive,
    will: w && { topic: w.topic, payload: payloadOf(w.payload), qos: w.qos, retain: w.retain },
    username: o.username,
    password: payloadOf(o.password),
  };
}

export function check(P: any) {
  var init = P._init, publish = P.publish, subscribe = P.subscribe;
  P._u = badUtf8;
  P._init = function (o: any, p: any) {
    var e = (o.password != null && payloadOf(o.password) === undefined) || !(o.inflight >= 1 && o.queueSize >= 1 && o.rxSize >= 16 && o.outboxSize >= 16 && (!__QOS2__ || !(o.qos2Held < 1 || o.qos2Inflight < 1))) ? Err.Options : badConnect(connectFields(o));
    if (e) throw mqttError(e);
    return init.call(this, o, p);
  };
  P.publish = function (topic: any, payload: any, opts?: any, cb?: any) {
    return publish.call(this, clean(topic), payload, opts, cb);
  };
  P.subscribe = function (f: any, opts: any, cb: any, un: any) {
    return subscribe.call(this, f && f.map ? f.map(cleanFilter) : cleanFilter(f), opts, cb, un);
  };
}
