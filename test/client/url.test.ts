// connect(url): the URL forms MQTT.js users write, and the ones mqttiny refuses.
import { describe, it, expect } from "vitest";
import { options } from "../../src/api";
import { DEFAULTS } from "./helpers";

describe("connect(url, options)", () => {
  it("reads host and port from mqtt:// and tcp:// URLs, 1883 by default, no TLS", () => {
    expect(options("mqtt://broker.lan:1884", null, DEFAULTS)).toMatchObject({ host: "broker.lan", port: 1884 });
    const o = options("tcp://10.0.0.2", null, DEFAULTS);
    expect(o).toMatchObject({ host: "10.0.0.2", port: 1883 });
    expect(o.tls).toBeFalsy();
  });

  it("turns TLS on for mqtts://, tls:// and ssl://, port 8883 by default", () => {
    for (const u of ["mqtts://b", "tls://b", "ssl://b"]) expect(options(u, null, DEFAULTS)).toMatchObject({ tls: true, port: 8883 });
  });

  it("refuses transports it does not speak (ws://, wss://) with code 106 instead of trying TCP", () => {
    for (const u of ["ws://b:8080", "wss://b", "http://b", "nonsense"]) expect(() => options(u, null, DEFAULTS)).toThrow(expect.objectContaining({ code: 106 }));
  });

  it("takes the options object alone, like MQTT.js's connect(options)", () => {
    expect(options({ host: "h", port: 2000 }, undefined, DEFAULTS)).toMatchObject({ host: "h", port: 2000, keepalive: 60, clean: true });
  });
});
