// The program the real Espruino interpreter runs in the test tier (test/espruino/run.mjs types or
// stores it after the bundle). ES5 that Espruino 2v29 accepts: no `?` in RegExps, every function
// declared before it is called, MQTT.js-style calls only (no internal fields of the client).
// __CFG__ is replaced with {port, id, topic, qos} (qos 0 on espruino-lite: no resend phase).
// It prints: @@MEM <label> ..., @@OK <check> [info], @@FAIL <check> <why>, @@PHASE <name> (the
// Node side acts on it), @@EV <event> (for the log), @@DONE before quit().
var CFG = __CFG__;
var Q = CFG.qos;
var T = CFG.topic;
var c = null;
var phase = "";
var guard = 0;
var closes = 0;
var seen = 0;
var fx = null;
var s = {};
var steps = Q ? ["roundtrip", "drop", "malformed", "oversize", "silence", "after", "end"] : ["roundtrip", "malformed", "oversize", "silence", "after", "end"];
var forms = ["form-tcp", "form-options", "form-noport"];
function mem(label) {
  var m = process.memory();
  print("@@MEM " + label + " usage=" + m.usage + " free=" + m.free + " total=" + m.total);
}
function ok(name, info) { print("@@OK " + name + (info === undefined ? "" : " " + info)); }
function fail(name, why) { print("@@FAIL " + name + " " + why); }
function codeOf(e) { return e && e.code !== undefined ? e.code : "none:" + e; }
function done() {
  if (guard) clearTimeout(guard);
  guard = 0;
  setTimeout(function () {
    mem("end");
    print("@@DONE");
    quit();
  }, 1500);
}
function watch(ms) {
  if (guard) clearTimeout(guard);
  guard = setTimeout(function () {
    guard = 0;
    fail(phase, "timeout");
    if (!seen) steps = steps.length ? ["end"] : [];
    next();
  }, ms);
}
function begin(name) {
  s = { closes: closes };
  print("@@PHASE " + name);
  if (name === "after") {
    c.publish(T, "f1", { qos: Q }, function (err) { if (err) fail("after", "publish code=" + codeOf(err)); });
  }
  if (name === "end" && !c) ended();
  else if (name === "end") {
    c.end(false, function () {
      s.cb = 1;
      if (s.ev) ended();
    });
  }
}
// Each phase starts once a publish to a topic nobody subscribes has completed (QoS q: its PUBACK
// came back), so what the previous phase sent has reached the broker before the Node side acts.
function next() {
  var name = steps.shift();
  // On the next turn: the ended client is still on the stack here, so it could not be freed yet.
  if (!name) { setTimeout(form, 0); return; }
  phase = name;
  watch(name === "silence" ? 15000 : 8000);
  if (!c || !seen) { begin(name); return; }
  c.publish(T + "/s", "s", { qos: Q }, function (err) {
    if (err) fail(name, "sync code=" + codeOf(err));
    if (phase === name) begin(name);
  });
}
function ended() {
  if (c) ok("end");
  c = null;
  mem("after-end");
  next();
}
function roundtrip() {
  if (s.p0 && s.p1 && s.m0 !== undefined && s.m1 !== undefined) {
    if (s.m0 !== 0 || s.m1 !== Q) fail("roundtrip", "qos m0=" + s.m0 + " m1=" + s.m1);
    else ok("roundtrip");
    mem("after-roundtrip");
    next();
  }
}
function onConnect(ack) {
  seen = 1;
  print("@@EV connect sp=" + (ack && ack.sessionPresent ? 1 : 0));
  if (phase === "roundtrip" && !s.connected) {
    s.connected = 1;
    mem("after-connect");
    ok("connect");
    c.subscribe(T, { qos: Q }, function (err, granted) {
      if (err) { fail("subscribe", "code=" + codeOf(err)); return; }
      if (!granted || granted[0].qos !== Q) fail("subscribe", "granted=" + (granted && granted[0].qos));
      else ok("subscribe", "granted=" + granted[0].qos);
      c.publish(T, "m0", { qos: 0 }, function (err) {
        if (err) fail("roundtrip", "publish m0 code=" + codeOf(err));
        else { s.p0 = 1; roundtrip(); }
      });
      c.publish(T, "m1", { qos: Q }, function (err) {
        if (err) fail("roundtrip", "publish m1 code=" + codeOf(err));
        else { s.p1 = 1; roundtrip(); }
      });
    });
    return;
  }
  if (phase === "malformed" && s.code) {
    if (closes > s.closes) ok("malformed", "code=" + s.code);
    else fail("malformed", "no close");
    next();
  }
  if (phase === "silence" && s.code) {
    ok("silence", "code=" + s.code);
    next();
  }
}
function dropped() {
  if (s.acked && s.got) {
    if (closes > s.closes) ok("drop", "closes=" + (closes - s.closes));
    else fail("drop", "the link was not dropped");
    next();
  }
}
function onMessage(topic, payload, packet) {
  var p = String(payload);
  print("@@EV message " + topic + " len=" + p.length + " qos=" + packet.qos + " dup=" + (packet.dup ? 1 : 0) + " " + p.substr(0, 12));
  if (topic !== T) { fail(phase, "topic " + topic); return; }
  if (phase === "roundtrip") {
    if (p === "m0" && s.m0 === undefined) s.m0 = packet.qos;
    if (p === "m1" && s.m1 === undefined) s.m1 = packet.qos;
    roundtrip();
  }
  if (phase === "drop") {
    if (p === "go:drop") {
      c.publish(T, "d1", { qos: 1 }, function (err) {
        if (err) { fail("drop", "publish code=" + codeOf(err)); return; }
        s.acked = 1;
        dropped();
      });
    }
    if (p === "d1" && !s.got) { s.got = 1; dropped(); }
  }
  if (phase === "oversize") {
    if (p.length > 1000) fail("oversize", "delivered len=" + p.length);
    if (p === "after-big") {
      if (s.code !== 210) fail("oversize", "error code=" + s.code);
      else if (closes !== s.closes) fail("oversize", "closed");
      else ok("oversize", "code=210");
      next();
    }
  }
  if (phase === "after" && p === "f1") { ok("after"); next(); }
}
function onError(e) {
  var code = codeOf(e);
  print("@@EV error code=" + code);
  if (phase === "malformed" && code >= 200 && code < 300 && !s.code) s.code = code;
  if (phase === "oversize" && !s.code) s.code = code;
  if (phase === "silence" && code === 311 && !s.code) s.code = code;
}
function listen(x) {
  x.on("connect", onConnect);
  x.on("message", onMessage);
  x.on("error", onError);
  x.on("close", function () { closes++; print("@@EV close"); });
  x.on("offline", function () { print("@@EV offline"); });
  x.on("reconnect", function () { print("@@EV reconnect"); });
  x.on("end", function () {
    print("@@EV end");
    if (phase === "end") {
      s.ev = 1;
      if (s.cb) ended();
    }
  });
}
function form() {
  var name, x = null, old = fx;
  // One client at a time, as a board app would: the previous one is ended, and the next made
  // once its `end` has come.
  if (old) {
    fx = null;
    old.on("end", function () { setTimeout(form, 0); });
    old.end(true);
    return;
  }
  name = forms.shift();
  if (!name) { done(); return; }
  phase = name;
  watch(5000);
  function close(ok2, why) {
    if (ok2) ok(name); else fail(name, why);
    fx = x;
    form();
  }
  try {
    if (name === "form-tcp") x = mqtt.connect("tcp://127.0.0.1:" + CFG.port, { clientId: CFG.id + "t", reconnectPeriod: 0 });
    if (name === "form-options") x = mqtt.connect({ host: "127.0.0.1", port: CFG.port, clientId: CFG.id + "o", reconnectPeriod: 0 });
    if (name === "form-noport") {
      x = mqtt.connect("mqtt://127.0.0.1", { clientId: CFG.id + "n", reconnectPeriod: 0 });
      close(true);
      return;
    }
  } catch (e) {
    close(false, "threw code=" + codeOf(e));
    return;
  }
  fx = x;
  x.on("connect", function () { close(true); });
  x.on("error", function (e) { print("@@EV error code=" + codeOf(e)); });
}
// an allocation that failed anywhere (also inside a callback Espruino then dropped) ends the run
setInterval(function () {
  var f = E.getErrorFlags();
  if (f.indexOf("MEMORY") >= 0 || f.indexOf("LOW_MEMORY") >= 0) {
    fail(phase, "memory error flags " + f.join(",").toLowerCase());
    done();
  }
}, 250);
var mqtt = null;
try { mqtt = require("mqttiny"); } catch (e) { fail("require", "threw " + e); }
if (!mqtt || typeof mqtt.connect !== "function") {
  fail("require", "no module");
  done();
} else {
  mem("after-require");
  // The module turns pretokenise on while it loads (build/minify.mjs): the app's setting is back.
  if (E.getFlags().pretokenise) fail("load", "E.getFlags().pretokenise left on after require");
  phase = "roundtrip";
  steps.shift();
  watch(10000);
  print("@@PHASE roundtrip");
  try {
    c = mqtt.connect("mqtt://127.0.0.1:" + CFG.port, { clientId: CFG.id, clean: false, keepalive: 2, reconnectPeriod: 200 });
    ok("url-mqtt");
  } catch (e) {
    fail("url-mqtt", "threw code=" + codeOf(e));
  }
  if (!c) {
    try {
      c = mqtt.connect({ host: "127.0.0.1", port: CFG.port, clientId: CFG.id, clean: false, keepalive: 2, reconnectPeriod: 200 });
    } catch (e) {
      fail("connect", "options form threw code=" + codeOf(e));
    }
  }
  if (c) listen(c); else done();
}
