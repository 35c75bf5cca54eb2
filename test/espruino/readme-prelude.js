// Board fakes for README.md's examples in the real interpreter (test/espruino/readme.test.ts puts
// this text in front of each example; ES5 for Espruino 2v29, functions declared before use).
// __PORT__ and __RUN_MS__ are replaced by the test.
//
// - Wi-Fi: the modules "Wifi", "EspruinoWiFi" and "ESP8266WiFi_0v25" are Modules.addCached fakes
//   that call back connected (no error) after 200 ms; Wifi.on("connected") listeners fire then.
// - net: Espruino does not let a program assign to `require` ("Unable to assign value to
//   non-reference Function"), but its require() looks in the module cache before the built-in
//   modules: so the real net module is kept, removed from the cache, and a "net" whose connect()
//   goes to the test broker on 127.0.0.1:__PORT__ (whatever host and port the example names) is
//   cached in its place. mqttiny calls require("net") when it connects, so it gets this one.
// - What the Linux build lacks or prints errors for (LED1, A0, B6/B7, analogRead, Serial1.setup)
//   and what the test wants to see (digitalWrite, LED1.write: a handler ran): __F, passed to the
//   example as parameters of the function it is wrapped in, and globals. The example's own
//   setInterval runs ten times faster (a 10 s reading every second).
// - The run ends after __RUN_MS__ ms with quit(), set first so an example that throws still ends.
setTimeout(function () { print("@@END " + process.memory().usage); quit(); }, __RUN_MS__);
// Deep sleep (the Linux build has neither object): on a board the program ends there and runs
// again on waking; here it says so.
var ESP32 = { deepSleep: function (us) { print("@@SLEEP " + us); } };
var ESP8266 = { deepSleep: function (us) { print("@@SLEEP " + us); } };
var __PORT = __PORT__;
var __net = require("net");
var __wifiOn = [];
function __wifiConnect(ssid, opts, cb) {
  if (typeof opts == "function") cb = opts;
  print("@@WIFI connect " + ssid);
  setTimeout(function () {
    for (var i = 0; i < __wifiOn.length; i++) __wifiOn[i]({ ssid: ssid });
    if (cb) cb(null);
  }, 200);
}
function __ip(cb) {
  var ip = { ip: "192.168.1.50", netmask: "255.255.255.0", gw: "192.168.1.1", mac: "60:01:94:00:00:01" };
  if (cb) setTimeout(function () { cb(null, ip); }, 10);
  return ip;
}
function __wifiModule() {
  exports.connect = __wifiConnect;
  exports.getIP = __ip;
  exports.on = function (ev, fn) { if (ev == "connected") __wifiOn.push(fn); };
  exports.disconnect = function (cb) { if (cb) setTimeout(cb, 10); };
  exports.getStatus = function () { return { station: "connected" }; };
  exports.setHostname = function () {};
  exports.save = function () {};
}
Modules.addCached("Wifi", __wifiModule);
Modules.addCached("EspruinoWiFi", __wifiModule);
Modules.addCached("ESP8266WiFi_0v25", function () {
  exports.connect = function (serial, cb) {
    setTimeout(function () { if (cb) cb(null); }, 100);
    return {
      reset: function (cb2) { setTimeout(function () { cb2(null); }, 10); },
      connect: function (ssid, key, cb2) { __wifiConnect(ssid, {}, cb2); },
      getIP: function (cb2) { setTimeout(function () { cb2(null, "192.168.1.51"); }, 10); },
      getVersion: function (cb2) { setTimeout(function () { cb2(null, "AT 1.x"); }, 10); }
    };
  };
});
Modules.removeCached("net");
Modules.addCached("net", function () {
  exports.connect = function (o, cb) {
    var c = { host: "127.0.0.1", port: __PORT }, k;
    if (typeof o == "object") for (k in o) if (k != "host" && k != "port") c[k] = o[k];
    print("@@NET " + (typeof o == "object" ? o.host + ":" + o.port : o));
    return __net.connect(c, cb);
  };
});
E.getTemperature = function () { return 21.5; };
var LED1 = { write: function (v) { print("@@PIN LED1 " + v); } }, LED2 = LED1;
var A0 = "A0", B6 = "B6", B7 = "B7";
var __F = {
  setInterval: function (fn, ms) { return setInterval(fn, ms >= 1000 ? ms / 10 : ms); },
  analogRead: function () { return 0.5; },
  digitalWrite: function (pin, v) { print("@@PIN " + pin + " " + v); },
  Serial1: { setup: function () {} }
};
