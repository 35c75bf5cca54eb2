// A simulated Espruino board for the newcomer's-path tests: the QuickJS board of test/engines/qjs/
// (the built bundle loaded as the Web IDE loads modules, sockets bridged to real TCP) plus what a
// user's program touches besides mqttiny: fake Wi-Fi modules that call back connected, Storage,
// the compat add-on, E.getTemperature, LEDs and serial ports. Every socket the board opens goes
// to the test's broker on 127.0.0.1, whatever host and port the program names.
import fs from "node:fs";
import path from "node:path";
// @ts-ignore: plain ESM helper shared with npm run sim
import { createDevice, startBroker } from "../engines/qjs/bridge.mjs";
import { dist } from "../bundle/built";

export { startBroker };

/** Board globals and modules a program may use; all fakes, defined inside QuickJS. */
const FAKES = String.raw`
(function (G) {
  var files = {};
  var R = G.require;
  function later(fn) { setTimeout(fn, 5); }
  var Wifi = {
    connect: function (ssid, opts, cb) { if (typeof opts == "function") cb = opts; later(function () { if (cb) cb(null); }); },
    getIP: function (cb) { var ip = { ip: "192.168.1.50", netmask: "255.255.255.0", gw: "192.168.1.1", mac: "60:01:94:00:00:01" }; if (cb) later(function () { cb(null, ip); }); return ip; },
    on: function () {},
    save: function () {},
    setHostname: function () {},
    disconnect: function (cb) { if (cb) later(cb); }
  };
  var at = {
    connect: function (serial, cb) {
      later(function () { if (cb) cb(null); });
      return {
        reset: function (cb2) { later(function () { cb2(null); }); },
        connect: function (ssid, key, cb2) { later(function () { cb2(null); }); },
        getIP: function (cb2) { later(function () { cb2(null, "192.168.1.51"); }); },
        getVersion: function (cb2) { later(function () { cb2(null, "AT 1.x"); }); }
      };
    }
  };
  var Storage = {
    write: function (name, data) { files[name] = String(data); return true; },
    read: function (name) { return files[name]; },
    erase: function (name) { delete files[name]; },
    list: function () { return Object.keys(files); },
    getFree: function () { return 200000; }
  };
  var N;
  G.require = function (id) {
    if (id == "Wifi" || id == "EspruinoWiFi") return Wifi;
    if (id == "ESP8266WiFi_0v25") return at;
    if (id == "Storage") return Storage;
    if (id == "net") {
      // Every connection goes to the test's broker.
      var net = R("net");
      N = N || { connect: function (o, cb) {
        if (typeof o == "string") o = {};
        var c = {}, k;
        for (k in o) c[k] = o[k];
        c.host = "127.0.0.1";
        c.port = G.__brokerPort;
        G.__connects = (G.__connects || 0) + 1;
        return net.connect(c, cb);
      } };
      return N;
    }
    // A module saved to Storage is found by require, as on a board.
    if (files.hasOwnProperty(id)) { try { return R(id); } catch (e) { Modules.addCached(id, files[id]); return R(id); } }
    return R(id);
  };
  G.E.getTemperature = function () { return 21.5; };
  G.E.setFlags = function () {};
  G.getSerial = function () { return "35ffd8054e5a3430"; };
  G.E.on = function () {};
  G.E.getSizeOf = function () { return 0; };
  G.process = { memory: function () { return { free: 1000, usage: 600, total: 1600 }; }, env: { BOARD: "SIM" } };
  function pin(n) { return { name: n, write: function () {}, set: function () {}, reset: function () {}, read: function () { return false; } }; }
  G.LED1 = pin("LED1"); G.LED2 = pin("LED2"); G.LED = G.LED1;
  G.A0 = pin("A0"); G.A2 = pin("A2"); G.A3 = pin("A3"); G.B6 = pin("B6"); G.B7 = pin("B7"); G.D2 = pin("D2"); G.D4 = pin("D4");
  G.digitalWrite = function () {}; G.digitalRead = function () { return 0; }; G.analogRead = function () { return 0.5; };
  // Deep sleep: on a board the program ends and runs again on waking; here it is recorded.
  G.ESP32 = { deepSleep: function (us) { G.__slept = us; } };
  G.ESP8266 = { deepSleep: function (us) { G.__slept = us; } };
  G.Serial2 = { setup: function () {} };
  G.Serial1 = G.Serial2;
  G.save = function () {};
  G.setTime = function () {};
  G.getTime = function () { return Date.now() / 1000; };

  // Timers a test drives: a program's setInterval/setTimeout, not mqttiny's (which keep real time).
  var U = { now: 0, n: 0, t: {} };
  function add(fn, ms, rep) { var id = ++U.n; U.t[id] = { f: fn, at: U.now + (+ms || 0), ms: +ms || 0, r: rep }; return id; }
  G.__userTimers = {
    setInterval: function (fn, ms) { return add(fn, ms, true); },
    setTimeout: function (fn, ms) { return add(fn, ms, false); },
    clear: function (id) { delete U.t[id]; }
  };
  /** Advances the program's clock by ms, firing what falls due (in time order); returns how many fired. */
  G.__tick = function (ms) {
    var end = U.now + ms, fired = 0;
    for (;;) {
      var best = null, k;
      for (k in U.t) if (U.t[k].at <= end && (!best || U.t[k].at < best.at)) best = U.t[k];
      if (!best) break;
      U.now = best.at;
      if (best.r) best.at += Math.max(best.ms, 1); else for (k in U.t) if (U.t[k] === best) delete U.t[k];
      fired++;
      best.f();
    }
    U.now = end;
    return fired;
  };
})(this);
`;

export interface Board {
  /** Lines the board printed (print, console.log). */
  lines: string[];
  /** Uncaught errors inside the board. */
  errors: any[];
  /** Runs program text in the board's global scope; `fakeTimers` gives it the test-driven timers. */
  run(code: string, opts?: { fakeTimers?: boolean; file?: string }): any;
  /** Advances the program's fake clock (see run's fakeTimers). */
  tick(ms: number): number;
  /** Espruino platform misuse recorded by the firmware shim (socket.write of a non-string, ...). */
  faults(): string[];
  /** Cuts the board's TCP links: the board sees error -9, then close. */
  cut(): number;
  dispose(): void;
}

/** The built add-on, read from dist/<target>/mqttiny-compat.min.js. */
export function compatText(target: string): string {
  return fs.readFileSync(path.join(dist, target, "mqttiny-compat.min.js"), "utf8");
}

/** A piece of `target`, read from dist/<target>/mqttiny-<piece>.min.js. */
export function pieceText(target: string, piece: string): string {
  return fs.readFileSync(path.join(dist, target, `mqttiny-${piece}.min.js`), "utf8");
}

/**
 * A board of `target` with mqttiny loaded the Web IDE way (Modules.addCached with a function) and
 * mqttiny-compat, with the piece it requires (mqttiny-subs), loaded as text (Modules.addCached with
 * a string), as the Web IDE uploads what a module requires; wired to the broker on `port`.
 */
export async function createBoard(target: string, port: number, onTrace?: (dir: string, packet: any) => void): Promise<Board> {
  const lines: string[] = [];
  const dev = await createDevice({ target, onPrint: (l: string) => lines.push(l), onTrace });
  dev.run(FAKES, "fakes.js");
  dev.run(`__brokerPort = ${port}; Modules.addCached("mqttiny-compat", ${JSON.stringify(compatText(target))}); Modules.addCached("mqttiny-subs", ${JSON.stringify(pieceText(target, "subs"))});`, "compat.js");
  return {
    lines,
    errors: dev.errors,
    run(code, opts = {}) {
      const wrapped = opts.fakeTimers
        ? `(function (setInterval, setTimeout, clearInterval, clearTimeout) {\n${code}\n})(__userTimers.setInterval, __userTimers.setTimeout, __userTimers.clear, __userTimers.clear);`
        : code;
      return dev.run(wrapped, opts.file || "program.js");
    },
    tick: (ms) => dev.run(`__tick(${ms})`, "tick.js"),
    faults: () => dev.faults(),
    cut: () => dev.cut(),
    dispose: () => dev.dispose(),
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `cond` every 10 ms; rejects naming `what` after `ms`. */
export async function until(cond: () => boolean, what: string, ms = 15000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out waiting for " + what);
    await sleep(10);
  }
}
