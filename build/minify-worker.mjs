// Minifies bundles off the main thread: terser is most of the build's time and the targets are
// independent, so the build keeps one of these per core busy (build.mjs, minifierPool).
// A message is { code, props? } (minifyForBoard's arguments); the answer { code, props }, with
// props.cache extended by the names this bundle mangled anew.
import { parentPort } from "node:worker_threads";
import { minifyForBoard } from "./minify.mjs";

parentPort.on("message", async ({ code, props }) => parentPort.postMessage({ code: await minifyForBoard(code, props), props }));
