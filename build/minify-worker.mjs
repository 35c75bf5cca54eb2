// Minifies bundles off the main thread: terser is most of the build's time and the targets are
// independent, so the build keeps one of these per core busy (build.mjs, minifierPool).
import { parentPort } from "node:worker_threads";
import { minifyForBoard } from "./minify.mjs";

parentPort.on("message", async (code) => parentPort.postMessage(await minifyForBoard(code)));
