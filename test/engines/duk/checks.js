// The walk through one Espruino bundle in Duktape, after shim.js and the bundle's
// Modules.addCached(...). TARGET = {name, qos1, qos2, chunk}. One "RESULT <check> PASS|FAIL <why>"
// line per check, then "DONE". Virtual time only: Loop.run(ms).
var KA = 10, TOPIC = "sensors/t";

function result(name, why) {
  print("RESULT " + name + " " + (why ? "FAIL " + String(why).replace(/\n/g, " | ") : "PASS"));
}
/** Runs `fn`, which returns nothing (pass) or a reason (fail); a throw fails too. */
function check(name, fn) {
  var why;
  try {
    why = fn();
  } catch (e) {
    why = "threw " + (e && e.stack ? e.stack : e);
  }
  if (Host.faults.length) why = "platform misuse: " + Host.faults.join("; ") + (why ? "; then " + why : "");
  Host.faults = [];
  result(name, why);
  return !why;
}
function eq(a, b, what) {
  if (a !== b) throw new Error(what + ": got " + (typeof a == "string" ? "[" + hex(a) + "]" : a) + ", want " + (typeof b == "string" ? "[" + hex(b) + "]" : b));
}
function codeOf(e) {
  return e && e.code;
}

var mqtt, c, sock, ev = [], errs = [], conn = [], msgs = [], handled = [];

check("load", function () {
  mqtt = require("mqttiny");
  require("mqttiny-stats");
  require("mqttiny-handlers");
  require("mqttiny-subs"); // subscriptions made again in a new session (the "reconnected" check)
  if (typeof mqtt.connect != "function") return "the module exports no connect()";
});

check("connect", function () {
  c = mqtt.connect("mqtt://127.0.0.1:1883", { clientId: "duk1", keepalive: KA });
  var names = ["connect", "close", "offline", "reconnect", "error", "end", "message"];
  for (var i = 0; i < names.length; i++)
    (function (n) {
      c.on(n, function (a) {
        ev.push(n);
        Host.log.push("ev:" + n);
        if (n == "error") errs.push(a);
        if (n == "connect") conn.push(a);
        if (n == "message") msgs.push([a, arguments[1], arguments[2]]);
      });
    })(names[i]);
  Loop.run(0);
  eq(Broker.sockets.length, 1, "sockets opened");
  sock = Broker.sockets[0];
  eq(sock.opts.host, "127.0.0.1", "host");
  eq(sock.opts.port, 1883, "port");
  var p = Broker.rx[0];
  if (!p) return "no CONNECT written";
  // 10: CONNECT, 16 bytes: "MQTT" v4, flags 0x02 (clean), keepalive 10, client id "duk1"
  eq(p.raw, B(0x10, 16, 0, 4, "MQTT", 4, 2, 0, KA, 0, 4, "duk1"), "CONNECT bytes");
});

check("connack", function () {
  Loop.run(10);
  eq(conn.length, 1, "connect events");
  eq(c.connected, true, "client.connected");
  eq(conn[0] && conn[0].sessionPresent, false, "sessionPresent");
  eq(errs.length, 0, "errors");
});

var subQ = TARGET.qos1 ? 1 : 0;
check("subscribe", function () {
  var got = null, n = Broker.rx.length;
  c.subscribe("cmd/#", {
    qos: subQ,
    handler: function (t, p, k) {
      handled.push([t, p, k.qos, Broker.count(4)]);
      Host.log.push("handler");
    },
  }, function (e, g) {
    got = [e, g];
  });
  Loop.run(10);
  var p = Broker.rx[n];
  if (!p || p.type != 8) return "no SUBSCRIBE written";
  var id = p.body.charCodeAt(0) * 256 + p.body.charCodeAt(1);
  if (!id) return "SUBSCRIBE with packet id 0";
  eq(p.raw, B(0x82, 10, u16(id), 0, 5, "cmd/#", subQ), "SUBSCRIBE bytes");
  if (!got) return "subscribe callback not called after SUBACK";
  eq(got[0], null, "subscribe error");
  eq(got[1] && got[1].length, 1, "granted entries");
  eq(got[1][0].topic, "cmd/#", "granted topic");
  eq(got[1][0].qos, subQ, "granted qos");
});

check("publish-qos0", function () {
  var done = [], n = Broker.rx.length;
  c.publish(TOPIC, "21.5", { qos: 0 }, function (e) {
    done.push(e);
  });
  Loop.run(10);
  var p = Broker.rx[n];
  if (!p) return "no PUBLISH written";
  eq(p.raw, B(0x30, 15, 0, 9, TOPIC, "21.5"), "PUBLISH QoS 0 bytes");
  eq(done.length, 1, "callbacks");
  eq(done[0], null, "callback error");
});

check("publish-qos1", function () {
  var done = [], n = Broker.rx.length;
  if (!TARGET.qos1) {
    c.publish(TOPIC, "x", { qos: 1 }, function (e) {
      done.push(e);
    });
    Loop.run(10);
    eq(Broker.rx.length, n, "packets written for a refused QoS 1 publish");
    eq(done.length, 1, "callbacks");
    eq(codeOf(done[0]), 103, "error code (this target has no QoS 1)");
    return;
  }
  Broker.auto.puback = false;
  c.publish(TOPIC, B("x", 0, 0xff), { qos: 1 }, function (e) {
    done.push(e);
  });
  Loop.run(10);
  var p = Broker.rx[n];
  if (!p) return "no PUBLISH written";
  var id = p.body.charCodeAt(11) * 256 + p.body.charCodeAt(12);
  if (!id) return "PUBLISH QoS 1 with packet id 0";
  eq(p.raw, B(0x32, 16, 0, 9, TOPIC, u16(id), "x", 0, 0xff), "PUBLISH QoS 1 bytes");
  eq(done.length, 0, "callbacks before PUBACK");
  Broker.send(sock, B(0x40, 2, u16(id)));
  Loop.run(10);
  Broker.auto.puback = true;
  eq(done.length, 1, "callbacks after PUBACK");
  eq(done[0], null, "callback error");
  eq(c.stats.acked, 1, "stats.acked");
});

check("receive-qos1", function () {
  var n = Broker.rx.length, m0 = msgs.length, h0 = handled.length;
  Broker.send(sock, pkt(0x32, mstr("cmd/led") + u16(0x1234) + B("on", 0, 0xff)));
  Loop.run(10);
  eq(handled.length - h0, 1, "handler calls");
  var h = handled[h0];
  eq(h[0], "cmd/led", "topic");
  eq(h[1], B("on", 0, 0xff), "payload");
  eq(h[2], 1, "packet.qos");
  eq(h[3], Broker.count(4) - 1, "PUBACKs written before the handler ran (want none of this one)");
  eq(msgs.length - m0, 1, "message events");
  var p = Broker.rx[n];
  if (!p || p.type != 4) return "no PUBACK written";
  eq(p.raw, B(0x40, 2, 0x12, 0x34), "PUBACK bytes");
  var hi = -1;
  for (var i = Host.log.length - 1; i >= 0; i--)
    if (Host.log[i] == "handler") {
      hi = i;
      break;
    }
  if (!(hi >= 0 && hi < p.at)) return "PUBACK written before the handler ran";
});

check("qos2", function () {
  var done = [], n = Broker.rx.length, h0 = handled.length, sub = [], p, id;
  c.publish(TOPIC, "q2", { qos: 2 }, function (e) {
    done.push(e);
  });
  Loop.run(10);
  if (!TARGET.qos2) {
    c.subscribe("q2/#", { qos: 2 }, function (e) {
      sub.push(e);
    });
    Loop.run(10);
    eq(Broker.rx.length, n, "packets written for a refused QoS 2 publish and subscribe");
    eq(codeOf(done[0]), 103, "publish error code (this target has no QoS 2)");
    eq(codeOf(sub[0]), 103, "subscribe error code (this target has no QoS 2)");
    return;
  }
  // Sent: PUBLISH, PUBREC, PUBREL, PUBCOMP, then the callback [MQTT-4.3.3-1].
  p = Broker.rx[n];
  if (!p || p.type != 3) return "no PUBLISH written";
  id = p.body.charCodeAt(11) * 256 + p.body.charCodeAt(12);
  eq(p.raw, B(0x34, 15, 0, 9, TOPIC, u16(id), "q2"), "PUBLISH QoS 2 bytes");
  Broker.send(sock, B(0x50, 2, u16(id)));
  Loop.run(10);
  eq(Broker.rx[n + 1] && Broker.rx[n + 1].raw, B(0x62, 2, u16(id)), "PUBREL bytes");
  eq(done.length, 0, "callbacks before PUBCOMP");
  Broker.send(sock, B(0x70, 2, u16(id)));
  Loop.run(10);
  eq(done.length, 1, "callbacks after PUBCOMP");
  eq(done[0], null, "callback error");
  // Received: delivered once, PUBREC for it and its duplicate, PUBCOMP for the PUBREL [MQTT-4.3.3-2].
  n = Broker.rx.length;
  Broker.send(sock, pkt(0x34, mstr("cmd/q2") + u16(0x2222) + "x") + pkt(0x3c, mstr("cmd/q2") + u16(0x2222) + "x"));
  Loop.run(10);
  eq(handled.length - h0, 1, "handler calls for a QoS 2 message and its duplicate");
  eq(handled[h0][2], 2, "packet.qos");
  eq(Broker.rx[n] && Broker.rx[n].raw, B(0x50, 2, 0x22, 0x22), "PUBREC bytes");
  eq(Broker.rx[n + 1] && Broker.rx[n + 1].raw, B(0x50, 2, 0x22, 0x22), "PUBREC bytes for the duplicate");
  Broker.send(sock, B(0x62, 2, 0x22, 0x22));
  Loop.run(10);
  eq(Broker.rx[n + 2] && Broker.rx[n + 2].raw, B(0x70, 2, 0x22, 0x22), "PUBCOMP bytes");
  eq(c.connected, true, "client.connected");
});

check("keepalive", function () {
  var pings = Broker.count(12), t0 = Loop.mono();
  // The client counts keepalive on its own tick (1 s): the PINGREQ is due within (KA-1, KA] s
  // of the last packet written; the broker allows 1.5 x KA.
  Loop.run((KA - 2) * 1000);
  eq(Broker.count(12), pings, "PINGREQs before keepalive - 2 s");
  Loop.run(3000);
  eq(Broker.count(12), pings + 1, "PINGREQs by keepalive + 1 s");
  eq(Broker.last(12).raw, B(0xc0, 0), "PINGREQ bytes");
  Loop.run(KA * 2000);
  if (Broker.count(12) < pings + 3) return "pings stopped: " + (Broker.count(12) - pings) + " in " + (Loop.mono() - t0) + " ms";
  eq(c.connected, true, "connected after pings answered");
  eq(errs.length, 0, "errors");
});

check("split-packet", function () {
  var n = Broker.rx.length, h0 = handled.length, body = "";
  for (var i = 0; i < 200; i++) body += String.fromCharCode((i * 7) & 255);
  // topic "cmd/é" as its UTF-8 bytes; Remaining Length takes two bytes
  Broker.send(sock, pkt(0x32, mstr(B("cmd/", 0xc3, 0xa9)) + u16(7) + body), 1);
  Loop.run(10);
  eq(handled.length - h0, 1, "handler calls");
  eq(handled[h0][0], B("cmd/", 0xc3, 0xa9), "topic (8-bit string of UTF-8 bytes)");
  eq(handled[h0][1], body, "payload");
  var p = Broker.rx[n];
  if (!p) return "no PUBACK written";
  eq(p.raw, B(0x40, 2, 0, 7), "PUBACK bytes");
  eq(errs.length, 0, "errors");
});

var cn0, e0, s0;
check("malformed", function () {
  cn0 = conn.length;
  e0 = errs.length;
  s0 = Broker.sockets.length;
  var r0 = c.stats.reconnects;
  // PUBACK with a reserved flag bit set [MQTT-2.2.2-2]; on a target without QoS 2, a QoS 2 PUBLISH.
  Broker.send(sock, TARGET.qos2 ? B(0x41, 2, 0, 1) : pkt(0x34, mstr("cmd/q2") + u16(9) + "x"));
  Loop.run(10);
  eq(errs.length - e0, 1, "error events");
  var code = codeOf(errs[e0]);
  if (!(code >= 200 && code < 300)) return "error code " + code + ", want 2xx";
  if (!TARGET.qos2) eq(code, 213, "error code of a QoS 2 PUBLISH (this target has no QoS 2)");
  if (!TARGET.qos2) eq(Broker.count(5), 0, "PUBRECs written");
  eq(sock.endedByClient, true, "socket closed by the client");
  eq(c.connected, false, "client.connected");
  if (ev.join(",").indexOf("error,close,offline") < 0) return "events: " + ev.join(",");
  Loop.run(3000);
  eq(Broker.sockets.length, s0 + 1, "sockets after the reconnect period");
  eq(c.stats.reconnects, r0 + 1, "stats.reconnects");
  if (ev.join(",").indexOf("offline,reconnect") < 0) return "no reconnect event: " + ev.join(",");
});

check("reconnected", function () {
  var s = Broker.sockets[Broker.sockets.length - 1];
  eq(conn.length, cn0 + 1, "connect events");
  eq(c.connected, true, "client.connected");
  var first = null, sub = null;
  for (var i = 0; i < Broker.rx.length; i++)
    if (Broker.rx[i].sock == s) {
      if (!first) first = Broker.rx[i];
      if (Broker.rx[i].type == 8) sub = Broker.rx[i];
    }
  eq(first && first.raw, B(0x10, 16, 0, 4, "MQTT", 4, 2, 0, KA, 0, 4, "duk1"), "CONNECT bytes");
  // clean session: the broker lost the subscription, so the client makes it again
  if (!sub) return "subscription not made again on the new connection";
  eq(sub.body.substr(2), B(0, 5, "cmd/#", subQ), "SUBSCRIBE again");
  sock = s;
});

check("end", function () {
  var done = [], n = Broker.rx.length;
  c.end(false, function (e) {
    done.push(e);
  });
  Loop.run(10);
  var p = Broker.rx[Broker.rx.length - 1];
  if (Broker.rx.length == n) return "nothing written at end()";
  eq(p.raw, B(0xe0, 0), "DISCONNECT bytes");
  eq(sock.endedByClient, true, "socket closed by the client");
  eq(done.length, 1, "end callbacks");
  eq(done[0], null, "end callback error");
  eq(ev[ev.length - 1], "end", "last event");
  eq(Loop.timers(), 0, "timers left running");
  Loop.run(60000);
  eq(Broker.sockets.length, s0 + 1, "sockets opened after end()");
});

check("stats", function () {
  var s = c.stats;
  // (The QoS 2 check's message and publish on the targets that have QoS 2; its duplicate is not counted.)
  eq(s.received, TARGET.qos2 ? 3 : 2, "received");
  eq(s.sent, TARGET.qos2 ? 3 : TARGET.qos1 ? 2 : 1, "sent");
  eq(s.reconnects, 1, "reconnects");
});

// ---- a second client, for what the walk above does not reach ----
var c2, s2, e2 = [], q2 = [];
/** The packets client 2 wrote on socket `s`. */
function on2(s, type) {
  var o = [];
  for (var i = 0; i < Broker.rx.length; i++) if (Broker.rx[i].sock == s && (type == null || Broker.rx[i].type == type)) o.push(Broker.rx[i]);
  return o;
}

check("subscribe-before-connack", function () {
  // subscribe() right after connect(), as most programs do: one SUBSCRIBE for the filter, and
  // the callback once.
  var n0 = Broker.sockets.length, cbs = 0;
  c2 = mqtt.connect("mqtt://127.0.0.1:1883", { clientId: "duk2", keepalive: KA });
  c2.on("error", function (e) {
    e2.push(e);
  });
  c2.subscribe("cfg/#", { qos: subQ }, function (e) {
    cbs++;
    q2.push(e);
  });
  Loop.run(10);
  eq(Broker.sockets.length, n0 + 1, "sockets");
  s2 = Broker.sockets[n0];
  eq(c2.connected, true, "client.connected");
  var subs = on2(s2, 8);
  if (subs.length != 1) {
    var l = [];
    for (var i = 0; i < subs.length; i++) l.push("[" + hex(subs[i].raw) + "]");
    return subs.length + " SUBSCRIBE packets for one subscribe() before CONNACK: " + l.join(" ");
  }
  eq(cbs, 1, "subscribe callbacks");
  eq(q2[0], null, "subscribe error");
});

check("second-connack", function () {
  // errors.ts: 211 "A packet out of place: anything before CONNACK, a second CONNACK."
  var k = e2.length;
  Broker.send(s2, B(0x20, 2, 0, 0));
  Loop.run(10);
  if (e2.length == k) return "a second CONNACK was ignored (want error 211 and the connection closed); stats.ignored " + c2.stats.ignored;
  eq(codeOf(e2[k]), 211, "error code");
  eq(s2.endedByClient, true, "socket closed by the client");
});

check("end-2", function () {
  c2.end(true);
  Loop.run(10);
  eq(Loop.timers(), 0, "timers left running");
});

// ---- connection failures as Espruino reports them: thrown from net.connect, or `error` then `close` ----
var c3, e3 = [], ev3 = [];
check("connect-throws", function () {
  // Linux builds throw from net.connect ("Unable to create socket"): 312, then a retry.
  var n0 = Broker.sockets.length;
  Net.throwOnConnect = new Error("Unable to create socket");
  c3 = mqtt.connect("mqtt://127.0.0.1:1883", { clientId: "duk3", keepalive: KA });
  c3.on("error", function (e) {
    e3.push(e);
  });
  var names = ["connect", "close", "offline", "reconnect"];
  for (var i = 0; i < names.length; i++)
    (function (n) {
      c3.on(n, function () {
        ev3.push(n);
      });
    })(names[i]);
  Loop.run(10);
  Net.throwOnConnect = null;
  eq(e3.length, 1, "error events");
  eq(codeOf(e3[0]), 312, "error code");
  eq(Broker.sockets.length, n0, "sockets");
  Loop.run(3000);
  eq(Broker.sockets.length, n0 + 1, "sockets after the retry");
  eq(c3.connected, true, "client.connected after the retry");
});

check("socket-error", function () {
  // Wi-Fi boards: `error` {code} then `close`: 312 with the platform's code in err.errno, once.
  var s = Broker.sockets[Broker.sockets.length - 1], k = e3.length, n0 = Broker.sockets.length;
  s.fail(-11, "no connection");
  Loop.run(10);
  eq(e3.length - k, 1, "error events");
  eq(codeOf(e3[k]), 312, "error code");
  eq(e3[k].errno, -11, "err.errno");
  eq(c3.connected, false, "client.connected");
  Loop.run(3000);
  eq(Broker.sockets.length, n0 + 1, "sockets after the reconnect period");
  eq(c3.connected, true, "client.connected after reconnecting");
});

check("remote-close", function () {
  // The broker hangs up (`end` then `close`): not an error; close, offline, reconnect.
  var s = Broker.sockets[Broker.sockets.length - 1], k = e3.length, j = ev3.length, n0 = Broker.sockets.length;
  s.hangup();
  Loop.run(10);
  eq(e3.length, k, "error events");
  eq(ev3.slice(j).join(","), "close,offline", "events");
  Loop.run(3000);
  eq(Broker.sockets.length, n0 + 1, "sockets after the reconnect period");
  eq(c3.connected, true, "client.connected after reconnecting");
  c3.end(true);
  Loop.run(10);
  eq(Loop.timers(), 0, "timers left running");
});

print("DONE " + TARGET.name);
