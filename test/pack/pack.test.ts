// What `npm pack` makes, as a user meets it: the tarball holds the bundles, typings and docs and
// nothing of the sources or tests; it installs offline into a fresh project (it has no runtime
// dependencies); there `require("mqttiny")` does a QoS 1 round trip through aedes on 127.0.0.1,
// the board subpaths resolve to the minified bundles, and a TypeScript program type-checks
// against the package's own `types`/`exports`.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, root } from "../bundle/built";
// @ts-ignore: plain ESM helper
import { startBroker } from "../engines/qjs/bridge.mjs";

const npm = process.platform === "win32" ? "npm.cmd" : "npm";
let tmp = "", app = "", tarball = "", files: string[] = [], pkg: any;

/** npm with the environment of a user's shell: no npm_* variables from the npm that runs the tests. */
function runNpm(args: string[], cwd: string): string {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  return execFileSync(npm, args, { cwd, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 120_000 });
}

beforeAll(() => {
  ensureBuilt();
  pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mqttiny-pack-"));
  // The bundles were just built (or checked fresh): pack them as they are, without prepack's
  // second build racing the other test files that read dist/.
  const out = JSON.parse(runNpm(["pack", "--ignore-scripts", "--json", "--pack-destination", tmp], root));
  tarball = path.join(tmp, out[0].filename);
  files = out[0].files.map((f: any) => f.path).sort();
  app = path.join(tmp, "app");
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, "package.json"), JSON.stringify({ name: "app", version: "1.0.0", private: true }, null, 2));
  runNpm(["install", tarball, "--offline", "--no-audit", "--no-fund"], app);
}, 240_000);

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe("npm pack", () => {
  it("holds the bundles, typings, README, LICENSE and CHANGELOG, and nothing of src/, test/, build/ or node_modules/", () => {
    for (const f of files) expect(f, f).not.toMatch(/^(src|test|build|targets|node_modules|\.ci)\/|^tsconfig|^vitest|sizes\.json$|codec\.js$/);
    for (const f of ["package.json", "README.md", "LICENSE", "CHANGELOG.md", "dist/node/mqttiny.js", "dist/node/mqttiny.min.js", "dist/node/mqttiny.d.ts"])
      expect(files).toContain(f);
    for (const t of ["espruino-esp32", "espruino-esp8266", "espruino-stm32", "espruino-lite"])
      for (const f of ["mqttiny.js", "mqttiny.min.js", "mqttiny.d.ts", "mqttiny-compat.min.js", "mqttiny-compat.d.ts"])
        expect(files).toContain(`dist/${t}/${f}`);
    expect(files.filter((f) => f.startsWith("dist/")).every((f) => /^dist\/[\w-]+\/mqttiny[\w.-]*\.(js|d\.ts)$/.test(f))).toBe(true);
  });

  it("has no runtime dependencies, a prepack that builds, and exports whose files are all in the tarball", () => {
    expect(pkg.dependencies ?? {}).toEqual({});
    expect(pkg.scripts.prepack).toMatch(/npm run build|build\/build\.mjs/);
    const targets = (e: any): string[] => (typeof e === "string" ? [e] : Object.values(e).flatMap(targets));
    for (const f of [pkg.main, pkg.types, ...targets(pkg.exports)]) expect(files, f).toContain(f.replace(/^\.\//, ""));
    // Every piece the build makes has its subpath, with its typings.
    for (const f of files) {
      const m = /^dist\/(espruino-[\w]+)\/mqttiny-(?!compat)([a-z]+)\.min\.js$/.exec(f);
      if (m) expect(pkg.exports[`./${m[1]}/${m[2]}`], f).toEqual({ types: `./dist/${m[1]}/mqttiny-${m[2]}.d.ts`, default: `./${f}` });
    }
  });

  it("installs offline into a fresh project; require('mqttiny') does a QoS 1 round trip through aedes", async () => {
    const b = await startBroker();
    try {
      fs.writeFileSync(path.join(app, "roundtrip.js"), `
const mqtt = require("mqttiny");
const out = { version: require("mqttiny/package.json").version, board: require.resolve("mqttiny/espruino-esp8266") };
const c = mqtt.connect("mqtt://127.0.0.1:" + process.argv[2], { clientId: "packed", keepalive: 10 });
c.on("error", (e) => { out.error = e.code; });
c.on("connect", () => {
  c.subscribe("pack/t", { qos: 1 }, (err, granted) => {
    out.granted = granted;
    c.publish("pack/t", "hello from the tarball", { qos: 1 }, (err) => { out.acked = !err; });
  });
});
c.on("message", (topic, payload, packet) => {
  out.got = [topic, payload.toString(), packet.qos];
  c.end(() => { console.log(JSON.stringify(out)); });
});
setTimeout(() => { console.log(JSON.stringify(out)); process.exit(1); }, 10000).unref();
`);
      const r = await new Promise<{ code: number | null; out: string }>((res) => {
        const cp = spawn(process.execPath, ["roundtrip.js", String(b.port)], { cwd: app });
        let o = "";
        cp.stdout.on("data", (d: Buffer) => (o += d));
        cp.stderr.on("data", (d: Buffer) => (o += d));
        cp.on("close", (code: number | null) => res({ code, out: o }));
      });
      expect(r.code, r.out).toBe(0);
      const o = JSON.parse(r.out.trim().split("\n").pop()!);
      expect(o).toMatchObject({ version: pkg.version, granted: [{ topic: "pack/t", qos: 1 }], acked: true, got: ["pack/t", "hello from the tarball", 1] });
      expect(o.error).toBeUndefined();
      expect(o.board).toBe(path.join(fs.realpathSync(app), "node_modules", "mqttiny", "dist", "espruino-esp8266", "mqttiny.min.js"));
    } finally {
      await b.close();
    }
  });

  it("keeps build internals private: a deep import of dist/node/codec.js is not exported", () => {
    const r = spawnSync(process.execPath, ["-e", `require("mqttiny/dist/node/codec.js")`], { cwd: app, encoding: "utf8" });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/ERR_PACKAGE_PATH_NOT_EXPORTED/);
  });

  it("type-checks a TypeScript program in that project against the package's types (node16 resolution), and rejects a wrong call", () => {
    const good = `import { connect, ErrorCode, type MqttError } from "mqttiny";
const c = connect("mqtt://127.0.0.1:1883", { clientId: "ts", keepalive: 30 });
c.on("message", (topic: string, payload: any, packet) => { const q: 0 | 1 | 2 = packet.qos; void topic; void payload; void q; });
c.publish("a/b", "x", { qos: 1 }, (err: MqttError | null) => { if (err && err.code === ErrorCode.Full) c.end(); });
`;
    const check = (text: string) => {
      const file = path.join(app, "app.ts");
      fs.writeFileSync(file, text);
      const program = ts.createProgram([file], {
        strict: true, noEmit: true, module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16,
        target: ts.ScriptTarget.ES2020, lib: ["lib.es2020.d.ts"], types: [],
      });
      return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    };
    expect(check(good)).toEqual([]);
    expect(check(good + `c.publish(1, "x");\n`).join("\n")).toMatch(/not assignable to parameter of type 'string'/);
  });
});
