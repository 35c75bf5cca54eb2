// Shared pieces of the benchmarks (test/bench/run.mjs and its parts): where results go, the build
// they measure, statistics, tables, child processes and ports.
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { ensureBuilt as ensure } from "../../build/ensure-built.mjs";
import { findProgram } from "../tools.mjs";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const dist = path.join(root, "dist");
export const benchDir = path.join(root, "test", "bench");
/** Where each part writes <part>.json; the smoke test points it at a temporary directory. */
export const OUT = process.env.BENCH_OUT ? path.resolve(process.env.BENCH_OUT) : path.join(dist, "bench");
/** BENCH_SMOKE=1: tiny inputs and few samples, to check that every part runs and writes its JSON. */
export const SMOKE = process.env.BENCH_SMOKE === "1";
export const require = createRequire(import.meta.url);

// ---- the build ---------------------------------------------------------------------------------

/**
 * Builds dist/ when it is missing or older than the sources (build/ensure-built.mjs, under the lock
 * the tests use). When the sources do not build and a previous build exists, that one is measured.
 */
export function ensureBuilt() {
  ensure({ fallback: true, log: true });
}

// ---- statistics --------------------------------------------------------------------------------

/** The q-quantile of sorted numbers, interpolated. */
export function quantile(sorted, q) {
  if (!sorted.length) return NaN;
  const at = (sorted.length - 1) * q, lo = Math.floor(at), hi = Math.ceil(at);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
}

/** Median and spread of samples: quartiles, extremes, and the interquartile range relative to the median. */
export function summary(xs) {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  const median = quantile(s, 0.5), p25 = quantile(s, 0.25), p75 = quantile(s, 0.75);
  return {
    n: s.length,
    median,
    p25,
    p75,
    min: s[0] ?? NaN,
    max: s[s.length - 1] ?? NaN,
    /** Half the interquartile range, in % of the median: "± this" around the median. */
    spreadPct: median ? (100 * (p75 - p25)) / 2 / Math.abs(median) : NaN,
  };
}

export const median = (xs) => summary(xs).median;

// ---- formatting --------------------------------------------------------------------------------

export function fmtInt(n) {
  return n == null || !Number.isFinite(n) ? "-" : Math.round(n).toLocaleString("en-US");
}

/** 3 significant digits with k/M suffixes: 1.23 M, 456 k, 789. */
export function fmtSI(n) {
  if (n == null || !Number.isFinite(n)) return "-";
  const a = Math.abs(n);
  const [d, u] = a >= 1e9 ? [1e9, " G"] : a >= 1e6 ? [1e6, " M"] : a >= 1e3 ? [1e3, " k"] : [1, ""];
  const v = n / d;
  return (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2)) + u;
}

export const fmtPct = (p) => (p == null || !Number.isFinite(p) ? "" : `±${p < 10 ? p.toFixed(1) : p.toFixed(0)}%`);
export const fmtRatio = (r) => (r == null || !Number.isFinite(r) ? "-" : `${r >= 10 ? r.toFixed(1) : r.toFixed(2)}×`);
/** A median with its spread: "1.23 M ±2.1%". */
export const fmtMed = (s, f = fmtSI) => (s && Number.isFinite(s.median) ? `${f(s.median)} ${fmtPct(s.spreadPct)}`.trim() : "-");

/** Prints a table: first column left-aligned, the others right-aligned. */
export function printTable(title, head, rows, notes = []) {
  const cells = rows.map((r) => r.map((c) => (c == null ? "-" : String(c))));
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? "").length)));
  const line = (r) => r.map((c, i) => (i ? (c ?? "").padStart(widths[i]) : (c ?? "").padEnd(widths[i]))).join(" | ");
  console.log(`\n${title}\n`);
  console.log(line(head));
  console.log(widths.map((w) => "-".repeat(w)).join("-|-"));
  for (const r of cells) console.log(line(r));
  for (const n of notes) console.log(n);
}

// ---- results -----------------------------------------------------------------------------------

export function machine() {
  return {
    node: process.version,
    v8: process.versions.v8,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    loadavg: os.loadavg().map((x) => +x.toFixed(2)),
    date: new Date().toISOString(),
  };
}

/** Writes OUT/<part>.json: the raw figures, with the machine and its load at the start and at the end. */
export function writeResult(part, data, startMachine) {
  fs.mkdirSync(OUT, { recursive: true });
  const file = path.join(OUT, `${part}.json`);
  const body = { part, smoke: SMOKE, machine: startMachine ?? machine(), loadavgEnd: os.loadavg().map((x) => +x.toFixed(2)), ...data };
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(body, null, 2) + "\n");
  fs.renameSync(tmp, file);
  console.log(`\nwrote ${path.relative(process.cwd(), file) || file}`);
  return file;
}

/** "load 0.52 / 1.10 / 0.98 on 2 CPUs": printed with every part, since the figures depend on it. */
export function loadLine() {
  const l = os.loadavg();
  return `load average ${l.map((x) => x.toFixed(2)).join(" / ")} on ${os.cpus().length} CPUs (node ${process.version})`;
}

// ---- processes and ports -----------------------------------------------------------------------

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A free loopback TCP port. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Workers report on stdout with lines "@@<json>"; everything else is passed through to stderr. */
export const MSG = "@@";
export function report(obj) {
  process.stdout.write(MSG + JSON.stringify(obj) + "\n");
}

/**
 * Runs a Node script; resolves with the JSON messages it reported (see report()). Rejects when it
 * exits non-zero or takes longer than `timeout` ms (then it is killed).
 */
export function runNode(script, args = [], { flags = [], env = {}, timeout = 120_000, onMessage, files } = {}) {
  return new Promise((resolve, reject) => {
    const [cmd, argv] = withFiles(files, process.execPath, [...flags, script, ...args]);
    const child = spawn(cmd, argv, {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const msgs = [];
    let buf = "", err = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${path.basename(script)} ${args.join(" ")}: timed out after ${timeout} ms\n${err.slice(-2000)}`));
    }, timeout);
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line.startsWith(MSG)) {
          const m = JSON.parse(line.slice(MSG.length));
          msgs.push(m);
          onMessage?.(m);
        } else if (line) process.stderr.write(line + "\n");
      }
    });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (d) => (err += d));
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, sig) => {
      clearTimeout(timer);
      if (code === 0) resolve(msgs);
      else reject(new Error(`${path.basename(script)} ${args.join(" ")}: exit ${code ?? sig}\n${err.slice(-3000)}`));
    });
  });
}

/**
 * Starts a long-running child (a broker) and resolves once it reports { ready: true, ... };
 * `stop()` ends it. `onMessage` sees every later report.
 */
export function startChild(cmd0, args0, { env = {}, ready, timeout = 15_000, onLine, files } = {}) {
  return new Promise((resolve, reject) => {
    const [cmd, args] = withFiles(files, cmd0, args0);
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "", done = false, buf = "";
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      child.kill("SIGKILL");
      reject(new Error(`${cmd}: not ready after ${timeout} ms\n${out.slice(-2000)}`));
    }, timeout);
    const onData = (d) => {
      out = (out + d).slice(-20000);
      buf += d;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        onLine?.(line);
        if (!done && ready(line)) {
          done = true;
          clearTimeout(timer);
          resolve({
            child,
            line,
            stop: () =>
              new Promise((r) => {
                if (child.exitCode != null || child.signalCode != null) return r();
                child.once("close", () => r());
                child.kill("SIGTERM");
                setTimeout(() => child.kill("SIGKILL"), 3000).unref();
              }),
          });
        }
      }
    };
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", (e) => {
      if (!done) {
        done = true;
        clearTimeout(timer);
        reject(e);
      }
    });
    child.on("close", (code) => {
      if (!done) {
        done = true;
        clearTimeout(timer);
        reject(new Error(`${cmd} exited (${code}) before it was ready\n${out.slice(-2000)}`));
      }
    });
  });
}

/** Absolute path of an executable on PATH (or in /usr/sbin, where Debian puts mosquitto), or null. */
export const which = findProgram;

// ---- open files ---------------------------------------------------------------------------------

let limits = null;
/** The soft and hard limits of open files (`ulimit -n`, `ulimit -Hn`) of a child of this process. */
export function fileLimits() {
  if (!limits) {
    try {
      const [soft, hard] = execFileSync("bash", ["-c", "ulimit -n; ulimit -Hn"], { encoding: "utf8" }).trim().split("\n");
      const n = (x) => (x === "unlimited" ? Infinity : +x);
      limits = { soft: n(soft), hard: n(hard) };
    } catch {
      limits = { soft: NaN, hard: NaN };
    }
  }
  return limits;
}

/**
 * The command that runs `cmd args` with at least `files` open files allowed: through bash's
 * `ulimit -n` when the soft limit is lower (and the hard limit allows it). Throws when it cannot.
 */
function withFiles(files, cmd, args) {
  if (!files) return [cmd, args];
  const { soft, hard } = fileLimits();
  if (!(soft < files)) return [cmd, args];
  if (hard < files) throw new Error(`needs ${files} open files; ulimit -Hn is ${hard}: raise it (e.g. in /etc/security/limits.conf) or use fewer clients`);
  return ["bash", ["-c", `ulimit -n ${files} && exec "$0" "$@"`, cmd, ...args]];
}
