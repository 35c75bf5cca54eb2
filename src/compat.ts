// mqttiny-compat: the API of Espruino's own MQTT module over mqttiny, so a sketch can switch by
// changing its require. Built on mqttiny's public API only, as a separate add-on file, so the
// core bundle does not pay for it. Typings: src/compat.d.ts. mqttiny reconnects by itself, so
// connect() on a module that has a client only makes it try now if it is offline: the docs'
// pattern of calling connect() again on 'disconnected' must start neither a second client with
// the same id nor a drop of the connection the client has made again meanwhile.
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
      emit: function (e: string, a?: any, b?: any) {
        var l = ev[e];
        // Not with `m` as `this`: Espruino 2v29 then never frees what a listener calling m's
        // methods touched (see _emit in client.ts).
        if (l) for (var i = 0; i < l.length; i++) l[i](a, b);
      },
      connect: function () {
        if (m.client) {
          if (!m.client.connected) m.client.reconnect();
          return;
        }
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
          m.emit("connect");
        });
        c.on("offline", function () {
          m.connected = false;
          m.emit("disconnected");
          m.emit("close");
        });
        c.on("message", function (t: string, p: any, k: any) {
          p = typeof p == "string" ? p : String(p);
          m.emit("publish", { topic: t, message: p, dup: k.dup ? 1 : 0, qos: k.qos, retain: k.retain ? 1 : 0 });
          m.emit("message", t, p);
        });
        c.on("error", function (e: any) {
          m.emit("error", e);
        });
      },
      publish: function (topic: string, message: any, po?: any) {
        // Anything but bytes goes as its text, as Espruino's module sends message.toString().
        if (!(message instanceof Uint8Array || message instanceof ArrayBuffer)) message = "" + message;
        m.client && m.client.publish(topic, message, { qos: po && po.qos, retain: po && po.retain });
      },
      subscribe: function (topic: any, so?: any) {
        var k: any;
        // { filter: qos, ... }, as Espruino's module takes it
        if (topic && typeof topic == "object" && !(topic instanceof Array)) {
          for (k in topic) m.subscribe(k, { qos: topic[k] });
          return;
        }
        m.client &&
          m.client.subscribe(topic, { qos: (so && so.qos) || 0 }, function (e: any) {
            m.emit(e ? (e.code == 316 ? "subscribed_fail" : "error") : "subscribed", e || topic);
          });
      },
      unsubscribe: function (topic: any) {
        // unsubscribe() is a piece of mqttiny on boards (the Web IDE uploads it with this file).
        require("mqttiny-subs");
        m.client &&
          m.client.unsubscribe(topic, function () {
            m.emit("unsubscribed", topic);
          });
      },
      disconnect: function () {
        // `offline` says so when the client was connected; connect() afterwards starts afresh.
        if (m.client) m.client.end();
        m.client = null;
      },
    };
  return m;
}

export function connect(opts: any) {
  var m = create(opts.host, opts);
  m.connect();
  return m;
}
