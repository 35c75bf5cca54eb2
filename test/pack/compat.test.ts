// mqttiny-compat, the add-on with the API of Espruino's own MQTT module: programs written the way
// https://www.espruino.com/MQTT uses that module, run unchanged but for the require, on the built
// esp8266 bundle and the built add-on in the QuickJS board (test/engines/qjs/), against aedes over
// real TCP on 127.0.0.1, with an MQTT.js peer on the other side.
import mqtt from "mqtt";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt } from "../bundle/built";
import { Board, createBoard, sleep, startBroker, until } from "./board";

const TARGET = "espruino-esp8266";

beforeAll(() => ensureBuilt(), 180_000);

/** The docs' first example (create, connected -> subscribe, publish events, connect once Wi-Fi is up), replying to each message. */
const DOCS_EXAMPLE = `
var server = "192.168.1.10"; // the ip of your MQTT broker
var options = { // ALL OPTIONAL - the defaults are below
  client_id : "pico-compat",   // the client ID sent to MQTT
  keep_alive: 60,         // keep alive time in seconds
  port: 1883,             // port number
  clean_session: true,
  username: "username",   // default is undefined
  password: "password",   // default is undefined
  protocol_name: "MQTT",  // or MQIsdp, etc..
  protocol_level: 4       // protocol level
};
var mqtt = require("mqttiny-compat").create(server, options /*optional*/);
var seen = { connected: 0, connect: 0, disconnected: 0, close: 0, subscribed: 0, unsubscribed: 0, message: [], publish: [] };

mqtt.on('connected', function() {
  seen.connected++;
  mqtt.subscribe("test");
});
mqtt.on('connect', function() { seen.connect++; });
mqtt.on('subscribed', function() { seen.subscribed++; });
mqtt.on('unsubscribed', function() { seen.unsubscribed++; });

mqtt.on('publish', function (pub) {
  console.log("topic: "+pub.topic);
  console.log("message: "+pub.message);
  seen.publish.push(pub);
  mqtt.publish("test/espruino", "got " + pub.message);
});
mqtt.on('message', function (topic, message) { seen.message.push([topic, message]); });

mqtt.on('disconnected', function() {
  console.log("Disconnected");
  seen.disconnected++;
});
mqtt.on('close', function() { seen.close++; });

var wifi = require("Wifi");
wifi.connect("AccessPointName", { password: "WPA2key" }, function (err) {
  if (err) { console.log("Wi-Fi error", err); return; }
  mqtt.connect();
});
`;

let board: Board | null = null, broker: any = null, peer: any = null;

afterEach(async () => {
  board?.dispose();
  if (peer) await peer.endAsync(true);
  if (broker) await broker.close();
  board = broker = peer = null;
});

/** Connected clients per id, and the subscriptions made, as aedes sees them. */
function watch(b: any) {
  const w = { clients: new Map<string, number>(), connects: 0, subs: [] as string[], unsubs: [] as string[], gone: [] as string[] };
  b.broker.on("client", (c: any) => {
    w.connects++;
    w.clients.set(c.id, (w.clients.get(c.id) || 0) + 1);
  });
  b.broker.on("clientDisconnect", (c: any) => {
    w.clients.set(c.id, (w.clients.get(c.id) || 1) - 1);
    w.gone.push(c.id);
  });
  b.broker.on("subscribe", (s: any[], c: any) => c && w.subs.push(...s.map((x) => x.topic)));
  b.broker.on("unsubscribe", (s: string[], c: any) => c && w.unsubs.push(...s));
  return w;
}

async function setup() {
  broker = await startBroker();
  const w = watch(broker);
  peer = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, { clientId: "peer", reconnectPeriod: 0 });
  const got: string[] = [];
  peer.on("message", (t: string, p: Buffer) => got.push(`${t} ${p.toString("latin1")}`));
  await peer.subscribeAsync("test/espruino", { qos: 1 });
  board = await createBoard(TARGET, broker.port);
  return { w, got, b: board };
}

const seen = (b: Board) => b.run("JSON.stringify(seen)") && JSON.parse(b.run("JSON.stringify(seen)"));

describe("mqttiny-compat in the style of Espruino's MQTT module docs", () => {
  it("connects once Wi-Fi is up, subscribes on 'connected', gets {topic, message}, publishes, unsubscribes, disconnects", async () => {
    const { w, got, b } = await setup();
    b.run(DOCS_EXAMPLE);
    await until(() => w.subs.includes("test"), "the board's SUBSCRIBE test");
    expect(w.clients.get("pico-compat")).toBe(1);
    expect(b.run("mqtt.connected")).toBe(true);

    // 'subscribed' follows the SUBACK
    await until(() => seen(b).subscribed === 1, "the subscribed event");
    await peer.publishAsync("test", "hello \xe9", { qos: 1 });
    await until(() => got.length === 1, "the board's reply");
    expect(got).toEqual(["test/espruino got hello \xc3\xa9"]); // the UTF-8 bytes went through as 8-bit chars and back
    expect(b.lines).toContain("topic: test");
    expect(b.lines).toContain("message: hello \xc3\xa9");
    let s = seen(b);
    expect(s.publish).toEqual([{ topic: "test", message: "hello \xc3\xa9", dup: 0, qos: 0, retain: 0 }]);
    expect(s.message).toEqual([["test", "hello \xc3\xa9"]]);
    expect(s.connected).toBe(1);
    expect(s.connect).toBe(1);

    // QoS 1 both ways: subscribe with {qos: 1}, publish with {qos: 1}
    b.run(`mqtt.subscribe("test/q1", { qos: 1 }); mqtt.publish("test/espruino", "q1", { qos: 1 });`);
    await until(() => got.length === 2, "the QoS 1 publish");
    await until(() => w.subs.includes("test/q1"), "the QoS 1 SUBSCRIBE");
    await peer.publishAsync("test/q1", "one", { qos: 1 });
    await until(() => seen(b).publish.length === 2, "the QoS 1 message");
    expect(seen(b).publish[1]).toEqual({ topic: "test/q1", message: "one", dup: 0, qos: 1, retain: 0 });

    // a number is published as its text, as Espruino's module does (message.toString())
    b.run(`mqtt.publish("test/espruino", 21.5);`);
    await until(() => got.length === 4, "the numeric publish"); // the board also replied to "one"
    expect(got).toContain("test/espruino 21.5");

    b.run(`mqtt.unsubscribe("test");`);
    await until(() => w.unsubs.includes("test"), "the UNSUBSCRIBE");
    await until(() => seen(b).unsubscribed === 1, "the unsubscribed event");

    b.run(`mqtt.disconnect();`);
    await until(() => w.gone.includes("pico-compat"), "the board's DISCONNECT");
    await until(() => seen(b).disconnected === 1, "the disconnected event");
    s = seen(b);
    expect(s.close).toBe(1);
    expect(b.run("mqtt.connected")).toBe(false);
    expect(b.lines).toContain("Disconnected");
    expect(b.errors).toEqual([]);
    expect(b.faults()).toEqual([]);
  });

  it("the docs' reconnect pattern (connect() again on 'disconnected') keeps one connection, not two fighting", async () => {
    const { w, got, b } = await setup();
    b.run(DOCS_EXAMPLE + `
mqtt.on('disconnected', function() {
  console.log("MQTT disconnected... reconnecting.");
  setTimeout(function() {
    mqtt.connect();
  }, 1000);
});`);
    await until(() => w.subs.includes("test"), "the first SUBSCRIBE");
    const before = w.connects;
    expect(b.cut()).toBe(1);
    await until(() => w.connects > before && w.clients.get("pico-compat") === 1, "the reconnection");
    // Wait past the docs' 1 s reconnect timer and a few of mqttiny's backoff steps: a second client
    // with the same id would make the broker drop the first, which would reconnect, and so on.
    await sleep(4000);
    expect(w.connects - before, "connections after the cut").toBe(1);
    expect(w.clients.get("pico-compat")).toBe(1);
    expect(b.run("__connects"), "sockets opened by the board").toBe(2);
    await peer.publishAsync("test", "again", { qos: 1 });
    await until(() => got.includes("test/espruino got again"), "a round trip after reconnecting");
    expect(b.errors).toEqual([]);
  });

  it("require('mqttiny-compat').connect({host, ...}) connects at once, as the module's connect() does", async () => {
    const { w, b } = await setup();
    b.run(`var m2 = require("mqttiny-compat").connect({ host: "192.168.1.10", client_id: "direct" });
var ok = 0; m2.on("connected", function () { ok++; });`);
    await until(() => w.clients.get("direct") === 1, "the direct connection");
    await until(() => b.run("ok") === 1, "the connected event");
    b.run("m2.disconnect()");
    await until(() => w.gone.includes("direct"), "the DISCONNECT");
    expect(b.errors).toEqual([]);
  });
});
