import { defineConfig } from "vitest/config";

// Every source test runs twice: once as the Node target compiles the sources (UTF-16 strings
// encoded to UTF-8, Uint8Array sockets) and once as the Espruino targets do (8-bit strings,
// string sockets). Tests of built bundles and of whole programs run once, in the "node" project.
const once = ["test/bundle/**/*.test.ts", "test/interop/**/*.test.ts", "test/engines/**/*.test.ts", "test/bench/**/*.test.ts", "test/pack/**/*.test.ts", "test/espruino/**/*.test.ts", "test/node/**/*.test.ts"];

function project(name: string, espruino: boolean) {
  return {
    extends: true as const,
    define: { __ESPRUINO__: String(espruino), __QOS1__: "true", __QOS2__: "true", __TLS__: "true" },
    test: {
      name,
      include: espruino ? ["test/**/*.test.ts"] : ["test/**/*.test.ts"],
      exclude: espruino ? ["node_modules/**", ...once] : ["node_modules/**"],
    },
  };
}

export default defineConfig({
  test: {
    testTimeout: 60000,
    hookTimeout: 60000,
    projects: [project("node", false), project("espruino", true)],
  },
});
