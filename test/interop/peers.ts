// The two ends of an interop exchange, behind one interface: our client (the built node bundle),
// MQTT.js, the Mosquitto command-line clients and Python paho-mqtt. A Side publishes, subscribes
// (a new subscription, acknowledged, whose messages are collected) and holds a client with a will
// that it can drop abruptly (no DISCONNECT) or end cleanly.
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import path from "node:path";
import readline from "node:readline";
import { here, proxy, require_, until } from "./util";

export interface Msg {
  topic: string;
  payload: Buffer;
  qos: number;
  retain: boolean;
}

export interface Sub {
  msgs: Msg[];
  /** Our client only: what each filter's own handler got. */
  perFilter?: Map<string, Msg[]>;
  close(): Promise<void>;
}

export interface WillClient {
  /** The connection dropped without DISCONNECT: the broker must publish the will. */
  abort(): Promise<void>;
  /** A clean end (DISCONNECT): the broker must not publish the will. */
  end(): Promise<void>;
}

export interface Side {
  name: string;
  pub(topic: string, payload: Buffer, qos: number, retain?: boolean): Promise<void>;
  sub(filters: string[], qos: number): Promise<Sub>;
  willClient(topic: string, payload: Buffer, qos: number): Promise<WillClient>;
  dispose(): Promise<void>;
}

/** Retries of a peer tool whose own connection failed (printed by the matrix). */
export const peerRetries: string[] = [];

let seq = 0;
const uid = (p: string) => p + "-" + process.pid + "-" + ++seq;

function timeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("timed out: " + what)), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e) => (clearTimeout(t), reject(e))
    );
  });
}

// ---- ours ------------------------------------------------------------------------------------

/** Our client: one shared connection publishes and subscribes; wills get their own, via a proxy. */
export async function oursSide(mqttiny: any, port: number, errors: number[]): Promise<Side> {
  // outboxMax = outboxSize: a fixed 16 KB outbox, as max-payload's limit (on Node it grows to 8 MB by default).
  const c = mqttiny.connect("mqtt://127.0.0.1:" + port, { clientId: uid("ours"), reconnectPeriod: 200, outboxMax: 16384 });
  c.on("error", (e: any) => errors.push(e.code));
  await timeout(new Promise<void>((r) => c.on("connect", () => r())), 5000, "our client to connect");
  const px = await proxy(() => port);
  const others: any[] = [];
  return {
    name: "ours",
    pub(topic, payload, qos, retain = false) {
      return timeout(
        new Promise<void>((r, j) => c.publish(topic, payload, { qos, retain }, (e: any) => (e ? j(new Error("publish failed: " + e.code)) : r()))),
        5000,
        "our publish to complete"
      );
    },
    async sub(filters, qos) {
      const s: Sub = { msgs: [], perFilter: new Map(), close: async () => {} };
      // Each filter its own subscribe() with its own handler.
      await timeout(
        Promise.all(
          filters.map((f) => {
            const mine: Msg[] = [];
            s.perFilter!.set(f, mine);
            return new Promise<void>((r, j) =>
              c.subscribe(
                f,
                {
                  qos,
                  handler: (topic: string, payload: Buffer, pk: any) => {
                    const m = { topic, payload: Buffer.from(payload), qos: pk.qos, retain: pk.retain };
                    mine.push(m);
                    s.msgs.push(m);
                  },
                },
                (e: any, granted: any) => (e ? j(new Error("subscribe failed: " + e.code)) : granted[0].qos === 0x80 ? j(new Error("refused")) : r())
              )
            );
          })
        ),
        5000,
        "our SUBACKs"
      );
      s.close = () => timeout(new Promise<void>((r, j) => c.unsubscribe(filters, (e: any) => (e ? j(e) : r()))), 5000, "our UNSUBACK");
      return s;
    },
    async willClient(topic, payload, qos) {
      // Through the proxy, so the link can be cut under it; no reconnect after that.
      const w = mqttiny.connect("mqtt://127.0.0.1:" + px.port, { clientId: uid("ours-will"), reconnectPeriod: 0, will: { topic, payload, qos, retain: false } });
      others.push(w);
      w.on("error", () => {});
      await timeout(new Promise<void>((r) => w.on("connect", () => r())), 5000, "our will client to connect");
      return {
        async abort() {
          px.cut();
          w.end(true);
        },
        end: () => new Promise<void>((r) => w.end(false, () => r())),
      };
    },
    async dispose() {
      for (const w of others) w.end(true);
      await new Promise<void>((r) => c.end(false, () => r()));
      await px.close();
    },
  };
}

// ---- MQTT.js ---------------------------------------------------------------------------------

export async function mqttjsSide(port: number): Promise<Side> {
  const mqtt = require_("mqtt");
  const open = async (opts: any = {}) => {
    const c = mqtt.connect({ host: "127.0.0.1", port, protocolVersion: 4, clientId: uid("mqttjs"), reconnectPeriod: 0, ...opts });
    c.on("error", () => {});
    await timeout(new Promise<void>((r) => c.once("connect", () => r())), 5000, "MQTT.js to connect");
    return c;
  };
  const pubc = await open();
  const all: any[] = [pubc];
  return {
    name: "mqttjs",
    pub(topic, payload, qos, retain = false) {
      return timeout(new Promise<void>((r, j) => pubc.publish(topic, payload, { qos, retain }, (e: any) => (e ? j(e) : r()))), 5000, "MQTT.js publish");
    },
    async sub(filters, qos) {
      const c = await open();
      all.push(c);
      const s: Sub = { msgs: [], close: () => new Promise<void>((r) => c.end(false, {}, () => r())) };
      c.on("message", (topic: string, payload: Buffer, pk: any) => s.msgs.push({ topic, payload: Buffer.from(payload), qos: pk.qos, retain: pk.retain }));
      await timeout(new Promise<void>((r, j) => c.subscribe(filters, { qos }, (e: any) => (e ? j(e) : r()))), 5000, "MQTT.js SUBACK");
      return s;
    },
    async willClient(topic, payload, qos) {
      const c = await open({ will: { topic, payload, qos, retain: false } });
      all.push(c);
      return {
        async abort() {
          c.stream.destroy();
          c.end(true);
        },
        end: () => new Promise<void>((r) => c.end(false, {}, () => r())),
      };
    },
    async dispose() {
      for (const c of all) c.end(true);
    },
  };
}

// ---- mosquitto_pub / mosquitto_sub ------------------------------------------------------------

function run(cmd: string, args: string[], input?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ["pipe", "ignore", "pipe"] });
    let err = "";
    p.stderr!.on("data", (d) => (err += d));
    p.on("error", reject);
    p.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(cmd + " exited " + code + ": " + err))));
    p.stdin!.end(input || Buffer.alloc(0));
  });
}

const STDBUF = !spawnSync("stdbuf", ["--version"], { stdio: "ignore" }).error;

/** mosquitto_sub -d: its debug lines tell CONNACK and SUBACK; messages are `MSG\t` lines. */
function mosquittoSub(port: number, filters: string[], qos: number, extra: string[] = []) {
  const args = ["-h", "127.0.0.1", "-p", String(port), "-V", "mqttv311", "-i", uid("msub"), "-d", "-q", String(qos), "-F", "MSG\t%q\t%r\t%x\t%t"];
  for (const f of filters) args.push("-t", f);
  // Its stdout is a pipe, so block-buffered: stdbuf makes it line-buffered (the SUBACK line).
  const p = STDBUF ? spawn("stdbuf", ["-oL", "mosquitto_sub", ...args, ...extra], { stdio: ["ignore", "pipe", "pipe"] }) : spawn("mosquitto_sub", [...args, ...extra], { stdio: ["ignore", "pipe", "pipe"] });
  const msgs: Msg[] = [];
  let subscribed = false, exited = false;
  p.on("exit", () => (exited = true));
  readline.createInterface({ input: p.stdout! }).on("line", (l) => {
    if (l.startsWith("MSG\t")) {
      const [, q, r, x, ...t] = l.split("\t");
      msgs.push({ topic: t.join("\t"), payload: Buffer.from(x, "hex"), qos: +q, retain: r === "1" });
    } else if (/^Subscribed \(mid/.test(l)) subscribed = true;
  });
  return {
    p,
    msgs,
    ready: () => until(() => subscribed || exited, 5000, "mosquitto_sub to subscribe").then(() => {
      if (!subscribed) throw new Error("mosquitto_sub exited before subscribing");
    }),
    stop: (sig: NodeJS.Signals) =>
      new Promise<void>((r) => {
        if (exited) return r();
        p.on("exit", () => r());
        p.kill(sig);
      }),
  };
}

export async function mosquittoClientsSide(port: number): Promise<Side> {
  const base = ["-h", "127.0.0.1", "-p", String(port), "-V", "mqttv311"];
  const procs: ChildProcess[] = [];
  return {
    name: "mosquitto_pub/sub",
    async pub(topic, payload, qos, retain = false) {
      const args = [...base, "-i", uid("mpub"), "-t", topic, "-q", String(qos), ...(retain ? ["-r"] : [])];
      // An empty payload is -n (a null message); anything else comes whole from stdin.
      const once = () => timeout(payload.length ? run("mosquitto_pub", [...args, "-s"], payload) : run("mosquitto_pub", [...args, "-n"]), 5000, "mosquitto_pub");
      try {
        await once();
      } catch (e: any) {
        // Seen once under load with aedes: "exited 7: The connection was lost" (the tool's own
        // connection, before it published). One retry, counted and printed with the matrix.
        if (!/exited 7/.test(e.message)) throw e;
        peerRetries.push(e.message.trim());
        await once();
      }
    },
    async sub(filters, qos) {
      const s = mosquittoSub(port, filters, qos);
      procs.push(s.p);
      await s.ready();
      return { msgs: s.msgs, close: () => s.stop("SIGTERM") };
    },
    async willClient(topic, payload, qos) {
      // A subscriber that does nothing but hold the will: SIGKILL drops it, SIGTERM disconnects.
      const s = mosquittoSub(port, [uid("idle")], 0, ["--will-topic", topic, "--will-payload", payload.toString("latin1"), "--will-qos", String(qos)]);
      procs.push(s.p);
      await s.ready();
      return { abort: () => s.stop("SIGKILL"), end: () => s.stop("SIGTERM") };
    },
    async dispose() {
      for (const p of procs) if (p.exitCode === null) p.kill("SIGKILL");
    },
  };
}

// ---- paho-mqtt ---------------------------------------------------------------------------------

/** The python3 that has paho-mqtt (the Debian package installs it for /usr/bin/python3). */
export function pahoPython(): string | null {
  for (const py of ["python3", "/usr/bin/python3"]) {
    const r = spawnSync(py, ["-c", "import paho.mqtt.client"], { stdio: "ignore", timeout: 10000 });
    if (!r.error && r.status === 0) return py;
  }
  return null;
}

/** One python process (test/interop/paho_peer.py) drives every paho client of a test file. */
export class PahoProcess {
  p: ChildProcess;
  waiters = new Map<string, (o: any) => void>();
  clients = new Map<string, { connected: boolean; msgs: Msg[] }>();
  errors: string[] = [];
  constructor(python: string) {
    this.p = spawn(python, ["-u", path.join(here, "paho_peer.py")], { stdio: ["pipe", "pipe", "pipe"] });
    this.p.stderr!.on("data", (d) => this.errors.push(String(d)));
    readline.createInterface({ input: this.p.stdout! }).on("line", (l) => {
      const o = JSON.parse(l);
      if (o.ev === "msg") this.clients.get(o.c)?.msgs.push({ topic: o.topic, payload: Buffer.from(o.hex, "hex"), qos: o.qos, retain: o.retain });
      else if (o.ev === "connected") {
        const c = this.clients.get(o.c);
        if (c && o.rc === 0) c.connected = true;
      } else if (o.ev === "done" || (o.ev === "error" && o.tag)) {
        const w = this.waiters.get(o.tag);
        this.waiters.delete(o.tag);
        w && w(o);
      } else if (o.ev === "error") this.errors.push(o.msg);
    });
  }
  send(o: any): void {
    this.p.stdin!.write(JSON.stringify(o) + "\n");
  }
  /** Sends a command and waits for its `done`. */
  call(o: any, what: string): Promise<any> {
    const tag = uid("t");
    return timeout(
      new Promise<any>((resolve, reject) => {
        this.waiters.set(tag, (r) => (r.error !== undefined || r.ev === "error" ? reject(new Error(what + ": " + (r.msg || r.error))) : resolve(r)));
        this.send({ ...o, tag });
      }),
      5000,
      what
    );
  }
  async connect(port: number, will?: any): Promise<string> {
    const name = uid("paho");
    const c = { connected: false, msgs: [] as Msg[] };
    this.clients.set(name, c);
    this.send({ op: "connect", c: name, port, id: name, clean: true, will });
    await until(() => c.connected, 5000, "paho to connect");
    return name;
  }
  /** Ends its input (it stops its clients and exits); killed if it is not gone within 2 s. */
  close(): Promise<void> {
    const p = this.p;
    if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const t = setTimeout(() => p.kill("SIGKILL"), 2000);
      p.on("exit", () => {
        clearTimeout(t);
        resolve();
      });
      p.stdin!.end();
    });
  }
}

export async function pahoSide(paho: PahoProcess, port: number): Promise<Side> {
  const pubc = await paho.connect(port);
  return {
    name: "paho",
    pub(topic, payload, qos, retain = false) {
      return paho.call({ op: "pub", c: pubc, topic, hex: payload.toString("hex"), qos, retain }, "paho publish");
    },
    async sub(filters, qos) {
      const name = await paho.connect(port);
      const r = await paho.call({ op: "sub", c: name, filters, qos }, "paho SUBACK");
      if (r.granted.some((g: number) => g === 0x80)) throw new Error("paho subscription refused");
      return { msgs: paho.clients.get(name)!.msgs, close: () => paho.call({ op: "disconnect", c: name }, "paho disconnect") };
    },
    async willClient(topic, payload, qos) {
      const name = await paho.connect(port, { topic, hex: payload.toString("hex"), qos, retain: false });
      return {
        abort: () => paho.call({ op: "abort", c: name }, "paho abort"),
        end: () => paho.call({ op: "disconnect", c: name }, "paho disconnect"),
      };
    },
    async dispose() {
      await paho.call({ op: "disconnect", c: pubc }, "paho disconnect").catch(() => {});
    },
  };
}
