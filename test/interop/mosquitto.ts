// A Mosquitto 2 broker per test file: a generated config in a temp dir, a free loopback port,
// persistence in that dir (saved on every change), stop with SIGTERM (saves its store) or SIGKILL
// (does not), and a restart on the same port and store. Optionally a TLS listener.
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort, waitPort } from "./util";
// @ts-ignore: plain ESM helper, shared with the benchmark scripts
import { findProgram } from "../tools.mjs";

/** The mosquitto executable (Debian installs it in /usr/sbin, which a user's PATH may lack). */
const MOSQUITTO: string | null = findProgram("mosquitto");

/** Why Mosquitto tests cannot run here, or null when they can. */
export function mosquittoMissing(): string | null {
  if (!MOSQUITTO) return "mosquitto not installed (apt-get install mosquitto)";
  const r = spawnSync(MOSQUITTO, ["-h"], { encoding: "utf8", timeout: 5000 });
  if (r.error) return "mosquitto does not run: " + r.error.message;
  if (!/mosquitto version 2\./.test(r.stdout + r.stderr)) return "mosquitto is not version 2: " + (r.stdout + r.stderr).split("\n")[0];
  return null;
}

/** Why the Mosquitto command-line clients cannot run here, or null when they can. */
export function mosquittoClientsMissing(): string | null {
  for (const c of ["mosquitto_pub", "mosquitto_sub"]) if (spawnSync(c, ["--help"], { stdio: "ignore" }).error) return c + " not installed (apt-get install mosquitto-clients)";
  return null;
}

export interface MosquittoOptions {
  /** A TLS listener: PEM file paths. */
  tls?: { cafile: string; certfile: string; keyfile: string };
  /**
   * When Mosquitto saves its store: by default after every change (autosave_interval 1 with
   * autosave_on_changes true); `{ interval: 3600, onChanges: false }` saves only on a clean exit.
   */
  autosave?: { interval: number; onChanges: boolean };
  /** Extra config lines. */
  extra?: string[];
}

export interface Mosquitto {
  /** The plain listener. */
  port: number;
  /** The TLS listener, when asked for. */
  tlsPort: number;
  dir: string;
  /** Everything the broker logged (its log file). */
  log(): string;
  start(): Promise<void>;
  /** SIGTERM (Mosquitto saves its store on the way out) or SIGKILL; resolves once it exited. */
  stop(signal?: "SIGTERM" | "SIGKILL"): Promise<void>;
  restart(signal?: "SIGTERM" | "SIGKILL"): Promise<void>;
  /** Stops it and removes its directory. */
  dispose(): Promise<void>;
}

export async function startMosquitto(o: MosquittoOptions = {}): Promise<Mosquitto> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mqttiny-mosq-"));
  const port = await freePort();
  const tlsPort = o.tls ? await freePort() : 0;
  const logFile = path.join(dir, "mosquitto.log");
  const conf = [
    "per_listener_settings false",
    "allow_anonymous true",
    "persistence true",
    "persistence_location " + dir + "/",
    "autosave_interval " + (o.autosave ? o.autosave.interval : 1),
    "autosave_on_changes " + (o.autosave ? o.autosave.onChanges : true),
    "max_queued_messages 100000",
    "log_dest file " + logFile,
    "log_type all",
    "log_timestamp true",
    // Run as root, Mosquitto drops to user `mosquitto`, which cannot write this directory (it only
    // logs "Permission denied" and saves nothing).
    ...(process.getuid && process.getuid() === 0 ? ["user root"] : []),
    "listener " + port + " 127.0.0.1",
    ...(o.tls ? ["listener " + tlsPort + " 127.0.0.1", "cafile " + o.tls.cafile, "certfile " + o.tls.certfile, "keyfile " + o.tls.keyfile] : []),
    ...(o.extra || []),
    "",
  ].join("\n");
  const confFile = path.join(dir, "mosquitto.conf");
  fs.writeFileSync(confFile, conf);

  let proc: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  let stderr = "";
  const m: Mosquitto = {
    port,
    tlsPort,
    dir,
    log() {
      try {
        return fs.readFileSync(logFile, "utf8") + stderr;
      } catch {
        return stderr;
      }
    },
    async start() {
      if (proc) throw new Error("mosquitto already running");
      const p = spawn(MOSQUITTO || "mosquitto", ["-c", confFile], { stdio: ["ignore", "pipe", "pipe"] });
      proc = p;
      let gone: string | null = null;
      p.stdout!.on("data", (d) => (stderr += d));
      p.stderr!.on("data", (d) => (stderr += d));
      exited = new Promise<void>((r) =>
        p.on("exit", (code, sig) => {
          gone = "mosquitto exited (" + (sig || code) + "):\n" + m.log();
          if (proc === p) proc = null;
          r();
        })
      );
      await waitPort(port, 10000, () => gone);
      if (tlsPort) await waitPort(tlsPort, 10000, () => gone);
    },
    async stop(signal = "SIGTERM") {
      const p = proc;
      if (!p) return;
      p.kill(signal);
      await exited;
    },
    async restart(signal = "SIGTERM") {
      await m.stop(signal);
      await m.start();
    },
    async dispose() {
      await m.stop("SIGKILL");
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  await m.start();
  return m;
}
