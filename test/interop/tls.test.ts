// TLS against real servers: a test CA and server certificates made with openssl at test time
// (SAN IP:127.0.0.1 and DNS:localhost), Mosquitto with a TLS listener and aedes over node's
// tls.createServer. Our client (both node bundles) with `tls: {ca}` connects and round-trips a
// QoS 1 message; a server whose certificate does not verify against the given CA is refused with
// code 314 and no `connect`; `rejectUnauthorized: false` (an explicit opt-out) connects anyway.
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mosquittoMissing, startMosquitto, Mosquitto } from "./mosquitto";
// @ts-ignore: plain ESM helper, shared with the benchmark scripts
import { skipIfMissing } from "../tools.mjs";
import { aedesBroker, AedesBroker, loadBundle, require_, sleep } from "./util";

const noOpenssl = skipIfMissing("interop/tls", spawnSync("openssl", ["version"], { stdio: "ignore" }).error ? "openssl not installed (apt-get install openssl)" : null);
const noMosquitto = !noOpenssl && skipIfMissing("interop/tls with Mosquitto", mosquittoMissing());

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mqttiny-tls-"));
const f = (n: string) => path.join(dir, n);
const read = (n: string) => fs.readFileSync(f(n));

function openssl(...args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

/** A CA: <name>.key, <name>.crt. */
function makeCa(name: string): void {
  openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", name + ".key", "-out", name + ".crt", "-days", "2",
    "-subj", "/CN=mqttiny test " + name, "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
}

/** A server certificate <name>.crt/.key signed by `ca`, for the names in `san`. */
function makeServer(name: string, ca: string, cn: string, san: string): void {
  openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + cn);
  fs.writeFileSync(f(name + ".ext"), "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=" + san + "\n");
  openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".crt", "-CAkey", ca + ".key", "-CAcreateserial", "-out", name + ".crt", "-days", "2", "-extfile", name + ".ext");
}

const bundles = ["mqttiny.js", "mqttiny.min.js"];
let lib: Record<string, any> = {};

beforeAll(() => {
  for (const b of bundles) lib[b] = loadBundle(b);
  if (noOpenssl) return;
  makeCa("ca");
  makeCa("other-ca");
  makeServer("server", "ca", "127.0.0.1", "IP:127.0.0.1,DNS:localhost");
  // Signed by the right CA, for another name only.
  makeServer("wrongname", "ca", "example.invalid", "DNS:example.invalid");
}, 180_000);

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Attempt {
  connected: boolean;
  errors: { code: number; errno: any }[];
  client: any;
}

/** One connection attempt (no reconnect), watched until it connects or fails. */
async function attempt(mqttiny: any, port: number, tls: any): Promise<Attempt> {
  const a: Attempt = { connected: false, errors: [], client: null };
  const c = (a.client = mqttiny.connect("mqtts://127.0.0.1:" + port, { tls, reconnectPeriod: 0, connectTimeout: 5000 }));
  c.on("error", (e: any) => a.errors.push({ code: e.code, errno: e.errno }));
  c.on("connect", () => (a.connected = true));
  const t0 = Date.now();
  while (!a.connected && !a.errors.length && Date.now() - t0 < 6000) await sleep(10);
  await sleep(100); // nothing more after the outcome: no late `connect`
  return a;
}

/** Connected: subscribe, publish QoS 1 to itself, get it back. */
async function roundTrip(c: any): Promise<void> {
  const topic = "tls/" + Math.random().toString(36).slice(2);
  const got = new Promise<Buffer>((r) => c.on("message", (t: string, p: Buffer) => t === topic && r(p)));
  await new Promise<void>((r, j) => c.subscribe(topic, { qos: 1 }, (e: any) => (e ? j(e) : r())));
  await new Promise<void>((r, j) => c.publish(topic, "over tls", { qos: 1 }, (e: any) => (e ? j(e) : r())));
  expect((await got).toString()).toBe("over tls");
}

const end = (c: any) => new Promise<void>((r) => c.end(true, () => r()));

/** The same checks against a server on `port()` presenting server.crt. */
function suite(port: () => number) {
  for (const b of bundles) {
    it(`${b}: tls {ca} connects and round-trips a QoS 1 message`, async () => {
      const a = await attempt(lib[b], port(), { ca: read("ca.crt") });
      try {
        expect(a.errors).toEqual([]);
        expect(a.connected).toBe(true);
        await roundTrip(a.client);
      } finally {
        await end(a.client);
      }
    });

    it(`${b}: a certificate that does not verify against the given CA is refused with 314, no connect`, async () => {
      const a = await attempt(lib[b], port(), { ca: read("other-ca.crt") });
      await end(a.client);
      console.log(`[tls] ${b} wrong CA: ${JSON.stringify(a.errors)}`);
      expect(a.connected).toBe(false);
      expect(a.errors.map((e) => e.code)).toEqual([314]);
    });

    it(`${b}: no CA given (system roots only) is refused with 314`, async () => {
      const a = await attempt(lib[b], port(), true);
      await end(a.client);
      expect(a.connected).toBe(false);
      expect(a.errors.map((e) => e.code)).toEqual([314]);
    });

    it(`${b}: rejectUnauthorized:false (explicit opt-out) connects anyway`, async () => {
      const a = await attempt(lib[b], port(), { ca: read("other-ca.crt"), rejectUnauthorized: false });
      try {
        expect(a.errors).toEqual([]);
        expect(a.connected).toBe(true);
        await roundTrip(a.client);
      } finally {
        await end(a.client);
      }
    });
  }
}

describe.skipIf(noOpenssl || noMosquitto)("TLS: Mosquitto with a TLS listener", () => {
  let mq: Mosquitto;
  beforeAll(async () => {
    mq = await startMosquitto({ tls: { cafile: f("ca.crt"), certfile: f("server.crt"), keyfile: f("server.key") } });
  });
  afterAll(async () => {
    await mq?.dispose();
  });
  suite(() => mq.tlsPort);

  it("TLS to Mosquitto's plain listener fails with 314 (the handshake), no connect", async () => {
    const a = await attempt(lib["mqttiny.js"], mq.port, { ca: read("ca.crt") });
    await end(a.client);
    console.log(`[tls] TLS to a plain listener: ${JSON.stringify(a.errors)}`);
    expect(a.connected).toBe(false);
    expect(a.errors.map((e) => e.code)).toEqual([314]);
  });
});

describe.skipIf(noOpenssl)("TLS: aedes over node tls.createServer", () => {
  let ab: AedesBroker, wrong: AedesBroker;
  beforeAll(async () => {
    ab = await aedesBroker({ tls: { key: read("server.key"), cert: read("server.crt") } });
    wrong = await aedesBroker({ tls: { key: read("wrongname.key"), cert: read("wrongname.crt") } });
  });
  afterAll(async () => {
    await ab?.stop();
    await wrong?.stop();
  });
  suite(() => ab.port);

  it("a certificate from the given CA but for another name is refused with 314", async () => {
    const a = await attempt(lib["mqttiny.js"], wrong.port, { ca: read("ca.crt") });
    await end(a.client);
    console.log(`[tls] wrong name: ${JSON.stringify(a.errors)}`);
    expect(a.connected).toBe(false);
    expect(a.errors.map((e) => e.code)).toEqual([314]);
  });

  it("an IP address host is not sent as the TLS server name (RFC 6066 SNI; Node warns DEP0123)", async () => {
    // Watch what the bundle hands to tls.connect (the same module object it requires).
    const tls = require_("node:tls");
    const orig = tls.connect, seen: any[] = [];
    tls.connect = function (o: any, ...rest: any[]) {
      seen.push({ ...o });
      return orig.call(this, o, ...rest);
    };
    try {
      const a = await attempt(lib["mqttiny.js"], ab.port, { ca: read("ca.crt") });
      await end(a.client);
      expect(a.connected).toBe(true);
    } finally {
      tls.connect = orig;
    }
    expect(seen.length).toBe(1);
    expect(net.isIP(seen[0].servername || "")).toBe(0);
  });
});
