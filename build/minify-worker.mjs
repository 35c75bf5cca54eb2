// Minifies one bundle off the main thread: terser is most of the build's time, and targets are
// independent, so the build runs one of these per target and uses every core.
import { parentPort, workerData } from "node:worker_threads";
import { minifyForBoard } from "./bundle.mjs";

parentPort.postMessage(await minifyForBoard(workerData));
