// Brokers for the client and memory parts, each in its own process: aedes (test/bench/broker-aedes.mjs)
// and, when installed, Mosquitto with a generated config on a free loopback port. Both use
// TCP_NODELAY. Each reports its subscriptions, so a C client's run can start once it is subscribed.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { benchDir, freePort, MSG, startChild, which } from "./lib.mjs";

/** A broker: { name, port, pid, subscribed(clientId) -> Promise, stop() }. */
function watcher() {
  const seen = new Set(), waits = new Map();
  return {
    saw(id) {
      seen.add(id);
      waits.get(id)?.();
    },
    subscribed(id, timeout = 10_000) {
      if (seen.has(id)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`${id} did not subscribe within ${timeout} ms`)), timeout);
        waits.set(id, () => {
          clearTimeout(t);
          waits.delete(id);
          resolve();
        });
      });
    },
  };
}

export async function startAedes({ files } = {}) {
  const w = watcher();
  const c = await startChild(process.execPath, [path.join(benchDir, "broker-aedes.mjs")], {
    files,
    ready: (l) => l.startsWith(MSG) && JSON.parse(l.slice(MSG.length)).ready === true,
    onLine: (l) => {
      if (!l.startsWith(MSG)) return;
      const m = JSON.parse(l.slice(MSG.length));
      if (m.subscribed) w.saw(m.subscribed);
    },
  });
  const { port } = JSON.parse(c.line.slice(MSG.length));
  return { name: "aedes", version: readVersion("aedes"), port, pid: c.child.pid, subscribed: w.subscribed, stop: c.stop };
}

function readVersion(pkg) {
  try {
    return JSON.parse(fs.readFileSync(path.join(benchDir, "../../node_modules", pkg, "package.json"), "utf8")).version;
  } catch {
    return null;
  }
}

/** Why Mosquitto cannot be used here, or null. */
export function mosquittoMissing() {
  return which("mosquitto") ? null : "mosquitto not installed (apt-get install mosquitto)";
}

export async function startMosquitto() {
  const exe = which("mosquitto");
  if (!exe) throw new Error(mosquittoMissing());
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mqttiny-bench-mosquitto-"));
  const conf = path.join(dir, "mosquitto.conf");
  fs.writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      "allow_anonymous true",
      "persistence false",
      "set_tcp_nodelay true",
      // No message dropped for a subscriber that is behind: a benchmark publishes in bursts.
      "max_queued_messages 1000000",
      // Running as root, Mosquitto would switch to the user "mosquitto".
      ...(process.getuid?.() === 0 ? ["user root"] : []),
      // stderr is not buffered: the subscribe lines arrive as they happen.
      "log_dest stderr",
      "log_type error",
      "log_type warning",
      "log_type notice",
      "log_type information", // "mosquitto version ... running", and a line per connection
      "log_type subscribe",
      "",
    ].join("\n"),
  );
  const w = watcher();
  let version = null;
  const c = await startChild(exe, ["-c", conf], {
    ready: (l) => {
      const m = /mosquitto version (\S+) running/.exec(l);
      if (m) version = m[1];
      return !!m;
    },
    // "<time>: <client id> <qos> <filter>"
    onLine: (l) => {
      const m = /^\d+: (\S+) [012] \S/.exec(l);
      if (m) w.saw(m[1]);
    },
  });
  return {
    name: "mosquitto",
    version,
    port,
    pid: c.child.pid,
    subscribed: w.subscribed,
    stop: async () => {
      await c.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** utime + stime of a process in ms, from /proc (clock ticks of 10 ms); NaN when unavailable. */
export function procCpuMs(pid) {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const parts = f.slice(f.lastIndexOf(")") + 2).split(" ");
    return ((+parts[11] + +parts[12]) * 1000) / 100;
  } catch {
    return NaN;
  }
}
