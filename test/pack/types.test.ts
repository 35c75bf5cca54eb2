// The shipped typings (dist/<target>/mqttiny.d.ts, mqttiny-compat.d.ts, copied there from src/ by
// the build) compile a device program written in TypeScript with @types/espruino's globals and a
// Node program, strict, with zero diagnostics; and wrong calls are errors, so this test can fail.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dist, ensureBuilt, root } from "../bundle/built";

let dir = "";

beforeAll(() => {
  ensureBuilt();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "mqttiny-types-"));
  // @types/espruino (1.95) declares neither the timers nor require(); a device project adds these.
  fs.writeFileSync(path.join(dir, "board.d.ts"), `
declare function setInterval(fn: () => void, ms: number): number;
declare function setTimeout(fn: () => void, ms: number): number;
declare function clearInterval(id: number): void;
declare var LED1: Pin;
`);
}, 180_000);

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** Parsed lib and @types files, shared by every compile (they are most of a compile's time). */
const parsed = new Map<string, ts.SourceFile | undefined>();

/** Diagnostics of `text` compiled as `name` in a project like a user's, as "line: message". */
function compile(name: string, text: string, kind: "board" | "node", extra: ts.CompilerOptions = {}): string[] {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  const target = kind === "board" ? "espruino-esp8266" : "node";
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    typeRoots: [path.join(root, "node_modules", "@types")],
    paths: {
      mqttiny: [path.join(dist, target, "mqttiny.d.ts")],
      "mqttiny-compat": [path.join(dist, "espruino-esp8266", "mqttiny-compat.d.ts")],
    },
    ...(kind === "board"
      ? { target: ts.ScriptTarget.ES5, lib: ["lib.es5.d.ts"], types: ["espruino"] }
      : { target: ts.ScriptTarget.ES2020, lib: ["lib.es2020.d.ts"], types: ["node"] }),
    ...extra,
  };
  const files = kind === "board" ? [file, path.join(dir, "board.d.ts")] : [file];
  const host = ts.createCompilerHost(options);
  const get = host.getSourceFile;
  host.getSourceFile = (f, lang, ...rest) => {
    if (f.startsWith(dir)) return get.call(host, f, lang, ...rest);
    const key = `${f}|${JSON.stringify(lang)}`;
    if (!parsed.has(key)) parsed.set(key, get.call(host, f, lang, ...rest));
    return parsed.get(key);
  };
  const program = ts.createProgram(files, options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const line = d.file && d.start != null ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
    return `${line}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
  });
}

/** An ESP8266 program: Wi-Fi, a QoS 1 reading every 10 s, a command topic, the error codes. */
const BOARD = `import Wifi = require("Wifi");
import mqtt = require("mqttiny");
import { ErrorCode, MqttError } from "mqttiny";

var client: mqtt.Client | null = null;
var fails = 0;

function start(): void {
  var c = (client = mqtt.connect("mqtt://192.168.1.10:1883", { clientId: "esp-" + getSerial(), keepalive: 30, rxSize: 256 }));
  c.on("connect", function (ack) {
    print("connected, session " + ack.sessionPresent);
    c.subscribe("kitchen/cmd/#", { qos: 1, handler: function (topic, payload, packet) {
      digitalWrite(LED1, payload == "on" ? 1 : 0);
      print(topic + " qos " + packet.qos + (packet.retain ? " retained" : ""));
    } }, function (err, granted) {
      if (err) print("refused " + err.code);
      else if (granted) print(granted[0].topic + " " + granted[0].qos);
    });
  });
  c.on("error", function (err: MqttError) {
    if (err.code === ErrorCode.NoMemory) E.setFlags({ pretokenise: 1 });
  });
  c.on("offline", function () { fails++; });
  setInterval(function () {
    c.publish("kitchen/temp", String(E.getTemperature()), { qos: 1 }, function (err) {
      if (err && err.code === ErrorCode.Full) print("outbox full");
    });
  }, 10000);
  print(c.connected + " " + c.stats.sent + " " + c.stats.acked);
}

Wifi.connect("my-network", { password: "my-password" }, function (err) {
  if (err) print("Wi-Fi: " + err);
  else start();
});

// The compat add-on, as Espruino's MQTT module is used
import compat = require("mqttiny-compat");
var m = compat.create("192.168.1.10", { client_id: "pico", keep_alive: 60 });
m.on("connected", function () { m.subscribe("test"); m.subscribe({ "a/b": 1 }); });
m.on("publish", function (pub) { print(pub.topic + " " + pub.message + " " + pub.qos); });
m.on("message", function (topic, message) { m.publish("echo/" + topic, message, { qos: 1 }); });
m.connect();
`;

/** A Node program: URL and options forms, Buffer payloads, end with a callback. */
const NODE = `import { connect, ErrorCode, type Client, type MqttError } from "mqttiny";

const client: Client = connect({ host: "127.0.0.1", port: 1883, clientId: "node-1", clean: false, reconnectPeriod: 500 });
const tls = connect("mqtts://broker.example.com", { tls: { ca: "-----BEGIN CERTIFICATE-----", rejectUnauthorized: true } });
client.on("message", (topic, payload: Buffer, packet) => {
  console.log(topic, payload.toString("utf8"), packet.qos, packet.dup);
});
client.on("error", (err: MqttError) => {
  if (err.code >= ErrorCode.RefusedProtocol && err.code <= ErrorCode.RefusedNotAuthorized) console.log("refused", err.code);
});
client.subscribe(["a/+", "b/#"], { qos: 1 }, (err, granted) => console.log(err?.code, granted?.map((g) => g.qos)));
client.publish("a/b", new Uint8Array([1, 2, 3]), { qos: 1, retain: true }, (err) => console.log(err ? err.code : "acked"));
client.publish("a/b", Buffer.from("x"));
client.publish("a/c", "text", (err) => console.log(err));
client.unsubscribe("a/+", () => client.end(() => tls.end(true)));
const stats: number = client.stats.reconnects;
void stats;
`;

describe("the typings shipped in dist/", () => {
  it("are in dist beside every bundle, as the build copies them from src/", () => {
    for (const t of ["espruino-esp32", "espruino-esp8266", "espruino-stm32", "espruino-lite", "node"]) {
      expect(fs.readFileSync(path.join(dist, t, "mqttiny.d.ts"), "utf8")).toBe(fs.readFileSync(path.join(root, "src", "mqttiny.d.ts"), "utf8"));
      if (t !== "node")
        expect(fs.readFileSync(path.join(dist, t, "mqttiny-compat.d.ts"), "utf8")).toBe(fs.readFileSync(path.join(root, "src", "compat.d.ts"), "utf8"));
    }
  });

  it("compile a device program (ES5, @types/espruino globals, Wifi, the compat add-on) strictly with no diagnostics", () => {
    expect(compile("board.ts", BOARD, "board")).toEqual([]);
  });

  it("compile a Node program strictly with no diagnostics", () => {
    expect(compile("node.ts", NODE, "node")).toEqual([]);
  });

  const WRONG: [string, string, RegExp][] = [
    ["a topic that is not a string", `client.publish(1, "x");`, /not assignable to parameter of type 'string'/],
    ["QoS 3", `client.publish("a", "x", { qos: 3 });`, /Type '3' is not assignable to type 'QoS/],
    ["QoS 3 on subscribe", `client.subscribe("a", { qos: 3 });`, /Type '3' is not assignable to type 'QoS/],
    ["a payload that is a number", `client.publish("a", 42);`, /not assignable to parameter of type 'Payload'/],
    ["keepalive as a string", `connect({ keepalive: "30" });`, /Type 'string' is not assignable to type 'number'/],
    ["a misspelt event", `client.on("mesage", () => {});`, /No overload matches this call/],
    ["an unknown option", `connect({ host: "h", keepAlive: 30 });`, /'keepAlive' does not exist/],
    ["a message handler with a wrong payload use", `client.on("connect", (ack) => ack.sessionPresent.toFixed());`, /toFixed' does not exist on type 'boolean'/],
  ];
  it(`reject each of ${WRONG.length} wrong calls, each with its own error`, () => {
    // One compile: each wrong call on its own line after the good program.
    const base = NODE.split("\n").length;
    const diags = compile("wrong.ts", NODE + WRONG.map((w) => w[1]).join("\n") + "\n", "node");
    WRONG.forEach(([what, line, error], i) => {
      const mine = diags.filter((d) => d.startsWith(`${base + i}: `));
      expect(mine.join("\n"), `${what}: ${line}`).toMatch(error);
    });
    expect(diags.length, diags.join("\n")).toBeGreaterThanOrEqual(WRONG.length);
  });

  it("reject a compat call without its message", () => {
    const diags = compile("wrong-board.ts", BOARD + `m.publish("t");\n`, "board");
    expect(diags.join("\n")).toMatch(/Expected 2-3 arguments, but got 1/);
  });

  it("ErrorCode is a const enum: tsc inlines it, and with isolatedModules (esbuild, Babel) TypeScript says it cannot be used", () => {
    expect(compile("iso.ts", NODE, "node", { isolatedModules: true }).join("\n")).toMatch(/ambient const enums/);
  });
});
