// A simulated Espruino board in QuickJS (quickjs-emscripten), for host tests and `npm run sim`.
// env.js gives the board's globals; this file is the host half: node timers behind setTimeout /
// setInterval, and each Espruino socket bridged to a REAL node TCP socket. Incoming bytes are
// delivered in chunks of at most `chunk` bytes (268 on ESP8266, as the firmware does), one data
// event each; the client inside sees 8-bit strings only. Optionally every byte crossing the bridge
// is decoded with mqtt-packet for a trace.
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { getQuickJS } from "quickjs-emscripten";
import mqttPacket from "mqtt-packet";

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, "../../..");

export const CHUNK = { "espruino-esp8266": 268, "espruino-esp32": 536, "espruino-stm32": 536, "espruino-lite": 268 };

/** Espruino's socket error codes (libs/network/socketerrors.c: -3 "timeout", -6 "not found", -9 "connection reset") for node's. */
function espCode(e) {
  switch (e && e.code) {
    case "ECONNREFUSED":
    case "ECONNRESET":
    case "EPIPE":
      return -9;
    case "ETIMEDOUT":
      return -3;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return -6;
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return -4;
    default:
      return -10;
  }
}

/**
 * Creates a board with the bundle of `target` loaded the way the Web IDE loads a module
 * (Modules.addCached("mqttiny", function(){...})). Options:
 *  - onTrace(dir, packet, sid): dir "→" (board to broker) or "←", packet from mqtt-packet's parser
 *  - onPrint(line): console.log inside the board (default: process.stdout)
 *  - onReport(kind, value): __host.report(kind, value) called by board code
 *  - memoryLimit: QuickJS runtime limit in bytes
 * Every piece built for the target (dist/<target>/mqttiny-<piece>.min.js) is added too, as a board
 * holds the modules uploaded with the program; code loads the ones it wants with require().
 */
export async function createDevice(opts = {}) {
  const target = opts.target || "espruino-esp8266";
  const bundleFile = opts.bundleFile || path.join(root, "dist", target, "mqttiny.min.js");
  const chunk = opts.chunk || CHUNK[target] || 536;
  const onPrint = opts.onPrint || ((l) => console.log("[board] " + l));
  const QuickJS = await getQuickJS();
  const runtime = QuickJS.newRuntime();
  if (opts.memoryLimit) runtime.setMemoryLimit(opts.memoryLimit);
  const vm = runtime.newContext();
  const timers = new Map();
  const socks = new Map();
  const errors = [];
  let alive = true;
  let fire = null, sockIn = null;

  function drainJobs() {
    if (!runtime.hasPendingJob()) return;
    const r = runtime.executePendingJobs();
    if (r.error) {
      errors.push(vm.dump(r.error));
      r.error.dispose();
    }
  }

  function toHandle(v) {
    if (v === undefined) return vm.undefined;
    if (typeof v === "number") return vm.newNumber(v);
    if (typeof v === "string") return vm.newString(v);
    if (v instanceof Uint8Array) return vm.newArrayBuffer(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
    const o = vm.newObject();
    for (const [k, x] of Object.entries(v)) {
      const h = toHandle(x);
      vm.setProp(o, k, h);
      h.dispose();
    }
    return o;
  }

  /** Calls a board function from the host loop: one event, one turn. */
  function callIn(fn, ...args) {
    if (!alive) return;
    const hs = args.map(toHandle);
    const r = vm.callFunction(fn, vm.undefined, ...hs);
    for (const h of hs) if (h !== vm.undefined) h.dispose();
    if (r.error) {
      const e = vm.dump(r.error);
      r.error.dispose();
      errors.push(e);
      onPrint("uncaught: " + (e && e.stack ? e.message + "\n" + e.stack : JSON.stringify(e)));
    } else r.value.dispose();
    drainJobs();
  }

  const host = vm.newObject();
  function def(name, f) {
    const h = vm.newFunction(name, f);
    vm.setProp(host, name, h);
    h.dispose();
  }
  def("print", (s) => {
    onPrint(vm.getString(s));
  });
  def("report", (k, v) => {
    if (opts.onReport) opts.onReport(vm.getString(k), vm.dump(v));
  });
  def("timer", (idH, msH, repH) => {
    const id = vm.getNumber(idH), ms = vm.getNumber(msH), rep = vm.getNumber(repH);
    const f = () => {
      if (!rep) timers.delete(id);
      callIn(fire, id);
    };
    timers.set(id, rep ? setInterval(f, Math.max(ms, 1)) : setTimeout(f, ms));
  });
  def("untimer", (idH) => {
    const id = vm.getNumber(idH), t = timers.get(id);
    clearTimeout(t);
    clearInterval(t);
    timers.delete(id);
  });
  def("connect", (sidH, hostH, portH) => {
    const sid = vm.getNumber(sidH), h = vm.getString(hostH), port = vm.getNumber(portH);
    const s = net.connect({ host: h, port });
    const rec = { s, sid, cut: false, err: null, tx: null, rx: null, closed: false };
    if (opts.onTrace) {
      rec.tx = mqttPacket.parser({ protocolVersion: 4 });
      rec.rx = mqttPacket.parser({ protocolVersion: 4 });
      rec.tx.on("packet", (p) => opts.onTrace("→", p, sid));
      rec.rx.on("packet", (p) => opts.onTrace("←", p, sid));
      rec.tx.on("error", (e) => opts.onTrace("→", { cmd: "malformed", error: e.message }, sid));
      rec.rx.on("error", (e) => opts.onTrace("←", { cmd: "malformed", error: e.message }, sid));
    }
    socks.set(sid, rec);
    s.setNoDelay(true);
    s.on("connect", () => callIn(sockIn, sid, "connect"));
    s.on("data", (b) => {
      if (rec.rx) rec.rx.parse(b);
      for (let i = 0; i < b.length; i += chunk) callIn(sockIn, sid, "data", new Uint8Array(b.subarray(i, i + chunk)));
    });
    s.on("end", () => callIn(sockIn, sid, "end"));
    s.on("error", (e) => {
      rec.err = e;
    });
    s.on("close", () => {
      rec.closed = true;
      socks.delete(sid);
      if (rec.local) return;
      if (rec.cut) callIn(sockIn, sid, "error", { code: -9, message: "link cut" });
      else if (rec.err) callIn(sockIn, sid, "error", { code: espCode(rec.err), message: String(rec.err.message) });
      callIn(sockIn, sid, "close");
    });
  });
  def("write", (sidH, abH) => {
    const sid = vm.getNumber(sidH), rec = socks.get(sid);
    const life = vm.getArrayBuffer(abH);
    const b = Buffer.from(life.value);
    life.dispose();
    if (!rec || rec.closed || rec.s.destroyed) return;
    if (rec.tx) rec.tx.parse(b);
    rec.s.write(b, () => setImmediate(() => callIn(sockIn, sid, "drain")));
  });
  def("end", (sidH) => {
    const rec = socks.get(vm.getNumber(sidH));
    if (!rec) return;
    // The board closed it: Espruino reports `close` for it too, later; the client ignores it.
    rec.local = true;
    rec.s.end();
    setImmediate(() => callIn(sockIn, rec.sid, "close"));
  });
  vm.setProp(vm.global, "__host", host);
  host.dispose();

  function run(code, file = "board.js") {
    const r = vm.evalCode(code, file);
    if (r.error) {
      const e = vm.dump(r.error);
      r.error.dispose();
      throw new Error(`${file}: ${e && e.message ? e.message + "\n" + e.stack : JSON.stringify(e)}`);
    }
    const v = vm.dump(r.value);
    r.value.dispose();
    drainJobs();
    return v;
  }

  run(fs.readFileSync(path.join(here, "env.js"), "utf8"), "env.js");
  fire = vm.getProp(vm.global, "__fire");
  sockIn = vm.getProp(vm.global, "__sock");
  /**
   * The runtime's figures from JS_DumpMemoryUsage (wasm32: a 32-bit QuickJS). Parsed from the dump
   * rather than computeMemoryUsage(), which would add quickjs-emscripten's service context (~33 KB)
   * to the runtime being measured. memory_used_size is the "memory used" SIZE column.
   */
  const memory = () => {
    const d = runtime.dumpMemoryUsage();
    const row = (name) => {
      const m = new RegExp("^\\s*" + name + "\\s+(\\d+)\\s+(\\d+)", "m").exec(d);
      return m ? [+m[1], +m[2]] : [NaN, NaN];
    };
    const [memory_used_count, memory_used_size] = row("memory used");
    const [obj_count, obj_size] = row("objects");
    const [atom_count, atom_size] = row("atoms");
    return { memory_used_size, memory_used_count, obj_count, obj_size, atom_count, atom_size };
  };
  const base = memory();
  run(`Modules.addCached("mqttiny", function () {\n${fs.readFileSync(bundleFile, "utf8")}\n});`, `${target}/mqttiny.min.js`);
  for (const f of fs.readdirSync(path.dirname(bundleFile)).filter((f) => /^mqttiny-(?!compat)[a-z]+\.min\.js$/.test(f)).sort())
    run(`Modules.addCached(${JSON.stringify(f.slice(0, -7))}, function () {\n${fs.readFileSync(path.join(path.dirname(bundleFile), f), "utf8")}\n});`, `${target}/${f}`);

  return {
    target,
    vm,
    runtime,
    errors,
    /** memory_used_size etc. of the board's runtime before the module was added. */
    base,
    run,
    memory,
    /** Faults recorded by env.js (socket.write of a non-string, ...). */
    faults: () => run("__faults.slice()"),
    /** Cuts every live bridged TCP socket: the board sees `error` (-9) then `close`. */
    cut() {
      let n = 0;
      for (const rec of socks.values())
        if (!rec.closed) {
          rec.cut = true;
          rec.s.destroy();
          n++;
        }
      return n;
    },
    liveSockets: () => socks.size,
    dispose() {
      alive = false;
      for (const t of timers.values()) {
        clearTimeout(t);
        clearInterval(t);
      }
      timers.clear();
      for (const rec of socks.values()) rec.s.destroy();
      socks.clear();
      fire.dispose();
      sockIn.dispose();
      vm.dispose();
      runtime.dispose();
    },
  };
}

/** An embedded aedes broker on 127.0.0.1 (port 0 = any), with an optional shared persistence. */
export async function startBroker({ port = 0, persistence } = {}) {
  const { Aedes } = await import("aedes");
  const broker = await Aedes.createBroker(persistence ? { persistence } : {});
  const server = net.createServer(broker.handle);
  const conns = new Set();
  server.on("connection", (c) => {
    conns.add(c);
    c.setNoDelay(true);
    c.on("close", () => conns.delete(c));
  });
  await new Promise((res, rej) => {
    server.once("error", rej);
    server.listen(port, "127.0.0.1", res);
  });
  return {
    broker,
    server,
    port: server.address().port,
    async close() {
      await new Promise((res) => broker.close(res));
      for (const c of conns) c.destroy();
      await new Promise((res) => server.close(() => res()));
    },
  };
}
