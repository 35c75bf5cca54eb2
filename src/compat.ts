// mqttiny-compat: the API of Espruino's own MQTT module over mqttiny, so a sketch can switch by
// changing its require. Built on mqttiny's public API only, as a separate add-on file, so the
// core bundle does not pay for it.
//   var mqtt = require("mqttiny-compat").create("192.168.1.10", { client_id: "pico" });
//   mqtt.on("connected", function () { mqtt.subscribe("test"); });
//   mqtt.on("publish", function (pub) { print(pub.topic, pub.message); });
//   mqtt.connect();
declare var require: (m: string) => any;

export function create(server: string, opts?: any) {
  var o = opts || {},
    ev: any = {},
    m: any = {
      connected: false,
      client: null,
      on: function (e: string, fn: any) {
        (ev[e] || (ev[e] = [])).push(fn);
        return m;
      },
      emit: function (e: string, a?: any) {
        var l = ev[e];
        if (l) for (var i = 0; i < l.length; i++) l[i].call(m, a);
      },
      connect: function () {
        var c = (m.client = require("mqttiny").connect({
          host: server,
          port: o.port || 1883,
          clientId: o.client_id,
          keepalive: o.keep_alive,
          clean: o.clean_session,
          username: o.username,
          password: o.password,
          reconnectPeriod: o.reconnect === false ? 0 : undefined,
        }));
        c.on("connect", function () {
          m.connected = true;
          m.emit("connected");
        });
        c.on("offline", function () {
          m.connected = false;
          m.emit("disconnected");
        });
        c.on("message", function (t: string, p: any) {
          m.emit("publish", { topic: t, message: typeof p == "string" ? p : String(p) });
        });
        c.on("error", function (e: any) {
          m.emit("error", e);
        });
      },
      publish: function (topic: string, message: any, po?: any) {
        m.client && m.client.publish(topic, message, { qos: po && po.qos, retain: po && po.retain });
      },
      subscribe: function (topic: any, so?: any) {
        m.client &&
          m.client.subscribe(topic, { qos: (so && so.qos) || 0 }, function (e: any) {
            m.emit(e ? "error" : "subscribed", e || topic);
          });
      },
      unsubscribe: function (topic: any) {
        m.client &&
          m.client.unsubscribe(topic, function () {
            m.emit("unsubscribed", topic);
          });
      },
      disconnect: function () {
        if (m.client)
          m.client.end(false, function () {
            // `offline` already said so when the client was connected.
            m.connected = false;
          });
      },
    };
  return m;
}
