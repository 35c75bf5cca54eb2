// Smoke test of `npm run bench`: every part runs on a tiny input (BENCH_SMOKE=1: 100 messages, 10
// clients, few samples) and writes its JSON with the fields the report is made of. No timing is
// asserted: the machine running the tests is shared. The parts run side by side, into a
// temporary directory, so dist/bench/ keeps the figures of the last real run.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-ignore: plain ESM helpers
import { mosquittoMissing } from "./brokers.mjs";
// @ts-ignore: plain ESM helpers
import { findProgram, skipIfMissing } from "../tools.mjs";

const root = path.resolve(__dirname, "../..");
const PARTS = ["codec", "client", "memory", "size", "engine"];
const out = fs.mkdtempSync(path.join(os.tmpdir(), "mqttiny-bench-smoke-"));
const runs: Record<string, { code: number | null; output: string }> = {};

function runPart(part: string): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(root, "test", "bench", "run.mjs"), part], {
      cwd: root,
      env: { ...process.env, BENCH_SMOKE: "1", BENCH_OUT: out },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("close", (code) => {
      runs[part] = { code, output };
      resolve();
    });
  });
}

// The client part runs Mosquitto and a C reference client (mosquitto_pub/sub) when installed.
const noMosquitto = skipIfMissing("bench client, Mosquitto rows", mosquittoMissing());
const noC = skipIfMissing("bench client, mosquitto_pub/sub reference", findProgram("mosquitto_pub") && findProgram("mosquitto_sub") ? null : "mosquitto_pub/mosquitto_sub not installed (apt-get install mosquitto-clients)");

const read = (part: string) => JSON.parse(fs.readFileSync(path.join(out, `${part}.json`), "utf8"));
const positive = (x: unknown) => typeof x === "number" && Number.isFinite(x) && x > 0;
const isNum = (x: unknown) => typeof x === "number" && Number.isFinite(x);

describe("npm run bench (smoke)", () => {
  beforeAll(async () => {
    await Promise.all(PARTS.map(runPart));
  }, 120_000);
  afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

  it.each(PARTS)("%s runs and writes its JSON", (part) => {
    expect(runs[part].code, runs[part].output.slice(-3000)).toBe(0);
    const j = read(part);
    expect(j.part).toBe(part);
    expect(j.smoke).toBe(true);
    expect(j.machine.node).toBe(process.version);
  });

  it("codec: packets/s, GCs and ratios for every row", () => {
    const j = read("codec");
    const names = j.rows.map((r: any) => `${r.group} ${r.name}`);
    for (const want of ["encode PUBLISH QoS 0, 16 B", "encode PUBLISH QoS 1, 4 KB", "encode CONNECT", "encode SUBSCRIBE, 4 filters", "encode PUBACK",
      "decode PUBLISH QoS 0, 256 B", "decode PUBLISH QoS 1, 16 B", "decode PUBACK"])
      expect(names.some((n: string) => n.startsWith(want)), want).toBe(true);
    for (const r of j.rows) {
      expect(r.tasks["mqtt-packet"]).toBeDefined();
      for (const t of Object.values<any>(r.tasks)) {
        expect(positive(t.packetsPerSec.median)).toBe(true);
        expect(isNum(t.gc.perMillion)).toBe(true);
      }
      expect(Object.keys(r.ratios).length).toBeGreaterThan(0);
      for (const s of Object.values<any>(r.ratios)) expect(positive(s.median)).toBe(true);
    }
    const pub = j.rows.find((r: any) => r.group === "decode" && r.name.startsWith("PUBLISH"));
    expect(Object.keys(pub.tasks).sort()).toEqual(["mqtt-packet", "mqttiny offsets", "mqttiny topic+Buffer"]);
    expect(j.goals.length).toBeGreaterThan(0);
  });

  it("client: msgs/s and CPU per message for mqttiny, MQTT.js and the references, per broker and QoS", () => {
    const j = read("client");
    expect(j.messages).toBe(100);
    expect(j.brokers.aedes).toBeDefined();
    const brokers = Object.keys(j.brokers);
    if (noMosquitto) expect(typeof j.skipped.mosquitto).toBe("string");
    else expect(brokers).toContain("mosquitto");
    if (noC) expect(typeof j.skipped.c).toBe("string");
    else expect(j.skipped.c).toBeUndefined();
    for (const b of brokers)
      for (const q of ["0", "1"]) {
        const cell = j.brokers[b][q];
        for (const impl of ["mqttiny", "mqttiny-107", "mqttjs", "raw"]) {
          expect(cell[impl].errors, `${b} QoS ${q} ${impl}`).toEqual([]);
          expect(positive(cell[impl].msgsPerSec.median)).toBe(true);
          expect(positive(cell[impl].cpuPerMsgUs.median)).toBe(true);
        }
        if (!noC) expect(positive(cell.c.msgsPerSec.median)).toBe(true);
        expect(positive(cell.ratios.msgsPerSec)).toBe(true);
        expect(positive(cell.ratios.cpuPerMsg)).toBe(true);
      }
    expect(j.goals.length).toBe(4 * brokers.length);
  });

  it("memory: bytes per client for each kind", () => {
    const j = read("memory");
    expect(j.clients).toBe(10);
    for (const impl of ["bare", "mqttiny", "mqttiny-device", "mqttjs"]) {
      expect(isNum(j.results[impl].held.median), impl).toBe(true);
      expect(isNum(j.results[impl].arrayBuffers.median), impl).toBe(true);
    }
    expect(j.goals).toHaveLength(3);
    expect(j.burst.refused).toBe(0);
    expect(j.burst.delivered).toBe(1000);
    expect(j.burst.inOrder).toBe(true);
  });

  it("size: min and gzip bytes of every target, the goals and the quoted peers", () => {
    const j = read("size");
    const t = j.targets.map((x: any) => x.target);
    for (const want of ["espruino-lite", "espruino-esp8266", "espruino-esp32", "espruino-stm32", "node"]) expect(t).toContain(want);
    for (const x of j.targets) {
      expect(positive(x.min)).toBe(true);
      expect(positive(x.gzip)).toBe(true);
      expect(x.gzip).toBeLessThan(x.min);
    }
    expect(j.goals).toHaveLength(4);
    expect(j.peers.length).toBe(4);
  });

  it("engine: QuickJS memory after require and after creating a client, per Espruino target", () => {
    const j = read("engine");
    for (const t of ["espruino-lite", "espruino-esp8266", "espruino-esp32", "espruino-stm32"]) {
      const f = j.targets[t].figures;
      const at = (l: string) => f.find((x: any) => x.label === l)?.memory_used_size;
      expect(positive(at("after require")), t).toBe(true);
      expect(at("client created")).toBeGreaterThan(at("after require"));
      expect(positive(j.summary[t].module)).toBe(true);
    }
  });
});
