// The build's own steps, on a small fixture project: feature switches folded before minifying,
// FEATURES kept out of the API, internal properties mangled and public ones kept, imports of
// platform modules refused, FEATURES read strictly; and the real build is deterministic.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import vm from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundle, compile, minifyForBoard, replaceSwitches } from "../../build/bundle.mjs";
import { listTargets, readFeatures } from "../../build/targets.mjs";
import { root } from "./built";

const FEATURES_OK = "export const FEATURES = { ESPRUINO: true, QOS1: false, QOS2: false, TLS: false };";

describe("readFeatures", () => {
  it("reads the booleans of FEATURES", () => {
    expect(readFeatures(`import { x } from "y";\n${FEATURES_OK}\nexport var connect = x;`, "t.ts")).toEqual({
      ESPRUINO: true,
      QOS1: false,
      QOS2: false,
      TLS: false,
    });
  });
  it("accepts `as const`, quoted keys and any key order", () => {
    const src = `export const FEATURES = { "TLS": true, QOS2: false, QOS1: true, ESPRUINO: false } as const;`;
    expect(readFeatures(src, "t.ts")).toEqual({ ESPRUINO: false, QOS1: true, QOS2: false, TLS: true });
  });
  it.each([
    ["no FEATURES", "export var connect = 1;", /no FEATURES/],
    ["FEATURES not exported", "const FEATURES = { ESPRUINO: true, QOS1: true, TLS: true };", /must be declared/],
    ["FEATURES not const", "export let FEATURES = { ESPRUINO: true, QOS1: true, TLS: true };", /must be declared/],
    ["not an object literal", "export const FEATURES = make();", /object literal/],
    ["a value that is not a literal", "export const FEATURES = { ESPRUINO: !0, QOS1: true, TLS: true };", /literal true or false/],
    ["a key missing", "export const FEATURES = { ESPRUINO: true, QOS1: true, QOS2: true };", /lacks TLS/],
    ["an unknown key", "export const FEATURES = { ESPRUINO: true, QOS1: true, QOS2: true, TLS: true, QOS3: true };", /unknown feature QOS3/],
    ["a key twice", "export const FEATURES = { ESPRUINO: true, QOS1: true, TLS: true, TLS: false };", /given twice/],
    ["a spread", "export const FEATURES = { ...BASE, TLS: true };", /entries must be/],
  ])("rejects %s", (_what, src, message) => {
    expect(() => readFeatures(src, "targets/t.ts")).toThrow(message);
  });
  it("reads every target in targets/", async () => {
    const { targetFeatures } = await import("../../build/targets.mjs");
    for (const t of listTargets(path.join(root, "targets"))) expect(() => targetFeatures(root, t), t).not.toThrow();
  });
});

describe("replaceSwitches", () => {
  const on = { ESPRUINO: true, QOS1: false, QOS2: false, TLS: true };
  it("replaces references and leaves property names alone", () => {
    const out = replaceSwitches("var a = __QOS1__ ? o.__TLS__ : { __ESPRUINO__: __ESPRUINO__ };", on, false);
    expect(out).toBe("var a = false ? o.__TLS__ : { __ESPRUINO__: true };");
  });
  it("drops the export of FEATURES in the entry only", () => {
    const src = "export var FEATURES = { ESPRUINO: true };\nexport function connect() {}";
    expect(replaceSwitches(src, on, true)).toBe("var FEATURES = { ESPRUINO: true };\nexport function connect() {}");
    expect(replaceSwitches(src, on, false)).toBe(src);
  });
});

describe("bundling a fixture project", () => {
  let dir: string, js: Map<string, string>;
  const write = (f: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), text);
  };
  const entry = (name: string) => path.join(dir, "targets", name + ".ts");
  const features = { ESPRUINO: true, QOS1: false, QOS2: false, TLS: false };
  const run = (src: string) => {
    const exports: any = {};
    vm.runInContext(src, vm.createContext({ exports, module: { exports } }));
    return exports;
  };

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "mqttiny-build-"));
    write(
      "tsconfig.json",
      JSON.stringify({
        compilerOptions: { target: "ES5", module: "ESNext", moduleResolution: "Bundler", strict: true, noEmit: true, lib: ["ES5"], types: [] },
        include: ["src", "targets"],
      })
    );
    write("src/defines.d.ts", fs.readFileSync(path.join(root, "src", "defines.d.ts"), "utf8"));
    write(
      "src/lib.ts",
      `export const enum K { Seven = 7 }
      export interface Opts { name: string; _secret: number }
      export function describe(o: Opts): string {
        if (__QOS1__) return "with-qos1:" + o._secret;
        return "without-qos1:" + o.name + K.Seven;
      }
      export function where(): string { return __ESPRUINO__ ? "on-board" : "on-node"; }`
    );
    write(
      "targets/t.ts",
      `import { describe, where, Opts } from "../src/lib";
      ${FEATURES_OK}
      export function connect(o: Opts) { return { _state: describe(o) + where(), kept: 1 }; }
      export function state(c: { _state: string }) { return c._state; }`
    );
    write("targets/bad.ts", `import * as net from "net";\n${FEATURES_OK}\nexport var connect = net;`);
    write("src/net.d.ts", `declare module "net" { export var x: number; }`);
    js = compile(dir).js;
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("reports type errors", () => {
    write("src/oops.ts", `export var n: number = "text";`);
    try {
      expect(compile(dir).typeErrors()).toMatch(/oops\.ts.*not assignable/);
    } finally {
      fs.rmSync(path.join(dir, "src/oops.ts"));
    }
    expect(compile(dir).typeErrors()).toBe("");
  });

  it("folds the switches before minifying: only the enabled branch is left, in both bundles", async () => {
    const readable = await bundle(js, entry("t"), features);
    const min = await minifyForBoard(readable);
    for (const src of [readable, min]) {
      expect(src).toContain("without-qos1:");
      expect(src).not.toContain("with-qos1:");
      expect(src).toContain("on-board");
      expect(src).not.toContain("on-node");
      expect(src).not.toMatch(/__(ESPRUINO|QOS1|QOS2|TLS)__|FEATURES|use strict|__esModule/);
    }
    expect(readable).toContain("exports.connect = connect;");
  });

  it("mangles _ properties and keeps public names; the bundle still works", async () => {
    const min = await minifyForBoard(await bundle(js, entry("t"), features));
    expect(min).not.toMatch(/_state|_secret/);
    const api = run(min);
    expect(Object.keys(api).sort()).toEqual(["connect", "state"]);
    const c = api.connect({ name: "n" });
    expect(c.kept).toBe(1);
    expect(Object.keys(c).filter((k) => k !== "kept")).toEqual([expect.not.stringMatching(/^_/)]);
    expect(api.state(c)).toBe("without-qos1:n7on-board");
  });

  it("refuses a bundle that imports a platform module (it would be required at load time)", async () => {
    await expect(bundle(js, entry("bad"), features)).rejects.toThrow(/may import only project files/);
  });
});

describe("the real build", () => {
  let snap: string;
  beforeAll(() => {
    // A snapshot of the sources, so that edits made meanwhile in the work tree cannot differ
    // between the two builds compared.
    snap = fs.mkdtempSync(path.join(os.tmpdir(), "mqttiny-snap-"));
    for (const p of ["src", "targets", "build", "tsconfig.json", "package.json"])
      fs.cpSync(path.join(root, p), path.join(snap, p), { recursive: true });
    fs.symlinkSync(path.join(root, "node_modules"), path.join(snap, "node_modules"), "dir");
  });
  afterAll(() => fs.rmSync(snap, { recursive: true, force: true }));

  // Two whole builds beside the rest of the suite on two cores: give them time.
  it("is deterministic: a second build writes the same bytes", { timeout: 300_000 }, () => {
    const build = (out: string) =>
      execFileSync(process.execPath, [path.join(snap, "build", "build.mjs"), "--no-typecheck", "--out", path.join(snap, out)], {
        cwd: snap,
        stdio: "pipe",
      });
    build("a");
    build("b");
    const files = (d: string): string[] =>
      fs.readdirSync(d, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? files(path.join(d, e.name)).map((f) => path.join(e.name, f)) : [e.name]
      );
    const a = path.join(snap, "a"), b = path.join(snap, "b");
    expect(files(a).length).toBeGreaterThan(2);
    expect(files(b).sort()).toEqual(files(a).sort());
    for (const f of files(a)) expect(fs.readFileSync(path.join(a, f)).equals(fs.readFileSync(path.join(b, f))), f).toBe(true);
  });
});
