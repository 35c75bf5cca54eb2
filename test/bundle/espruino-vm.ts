// One Node vm context shaped like an Espruino board's module system, for bundles that load one
// another: Modules.addCached(id, function-or-text) and require(id), as the Web IDE and Storage
// load modules (a module's code sees only `exports` and `module`, plus the board's globals); an
// E.toString, timers and a clock the test drives, and a "net" module whose sockets the test
// plays the broker for (incoming data as 8-bit strings, as Espruino delivers it).
import vm from "node:vm";

export interface FakeSocket {
  /** What the client wrote, as bytes. */
  sent: number[];
  ended: boolean;
  /** Delivers bytes from the broker, as a string of chars (one per byte). */
  data(bytes: number[]): void;
  /** Completes the TCP connection (calls connect's callback). */
  open(): void;
  /** The broker closes the link (Espruino's `close` event). */
  close(): void;
}

export interface EspruinoVm {
  context: vm.Context;
  /** Modules.addCached(id, code): `style` "function" as the Web IDE does, "string" as from Storage. */
  addModule(id: string, src: string, style?: "function" | "string"): void;
  require(id: string): any;
  run(code: string): any;
  /** Sockets the client opened, in order. */
  sockets: FakeSocket[];
  /** Advances the clock by ms, firing timers that fall due, in time order. */
  tick(ms: number): void;
}

export function espruinoVm(): EspruinoVm {
  const sockets: FakeSocket[] = [];
  let now = 1_000_000, seq = 0;
  const timers = new Map<number, { fn: () => void; at: number; every: number }>();
  const add = (fn: () => void, ms: number, every: boolean) => {
    timers.set(++seq, { fn, at: now + (+ms || 0), every: every ? Math.max(+ms || 0, 1) : 0 });
    return seq;
  };
  const net = {
    connect(_o: any, cb: () => void) {
      const on: Record<string, (x?: any) => void> = {};
      const s: any = {
        on: (ev: string, fn: any) => void (on[ev] = fn),
        write: (t: string) => {
          for (let i = 0; i < t.length; i++) sock.sent.push(t.charCodeAt(i) & 255);
          // Sent at once: the socket says so with "drain" on the next turn, as Espruino's does.
          add(() => on.drain && on.drain.call(s, s), 0, false);
          return true;
        },
        end: () => void (sock.ended = true),
      };
      const sock: FakeSocket = {
        sent: [],
        ended: false,
        data: (bytes) => on.data.call(s, String.fromCharCode(...bytes)),
        open: () => cb.call(s, s), // Espruino calls listeners with the socket as `this`, and gives it as the argument
        close: () => on.close.call(s, false),
      };
      sockets.push(sock);
      return s;
    },
  };
  const cached: Record<string, any> = {}, loaded: Record<string, any> = {};
  const context = vm.createContext({
    E: {
      toString: (b: Uint8Array) => {
        let s = "";
        for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
        return s;
      },
    },
    setTimeout: (fn: (...a: any[]) => void, ms: number, ...a: any[]) => add(() => fn(...a), ms, false),
    setInterval: (fn: (...a: any[]) => void, ms: number, ...a: any[]) => add(() => fn(...a), ms, true),
    clearTimeout: (id: number) => timers.delete(id),
    clearInterval: (id: number) => timers.delete(id),
    Modules: {
      addCached(id: string, code: any) {
        cached[id] = code;
        delete loaded[id];
      },
    },
  });
  // The board's clock is the test's.
  vm.runInContext("Date.now = function () { return __now(); };", context);
  context.__now = () => now;
  const require = (id: string) => {
    if (id === "net") return net;
    if (id in loaded) return loaded[id];
    if (!(id in cached)) throw new Error(`Module ${id} not found`);
    const module: any = { exports: {} };
    loaded[id] = module.exports;
    const code = cached[id];
    if (typeof code === "string") {
      // Text (Storage, addCached with a string): run in a scope of its own with exports and module.
      vm.runInContext(`(function (exports, module) {\n${code}\n})`, context, { filename: id })(module.exports, module);
    } else {
      // A function (the Web IDE's addCached): its body sees exports and module as it runs.
      Object.assign(context, { exports: module.exports, module });
      try {
        code();
      } finally {
        delete context.exports;
        delete context.module;
      }
    }
    return (loaded[id] = module.exports);
  };
  context.require = require;
  return {
    context,
    // A function-style module is the source as a function body, the way the Web IDE wraps it.
    addModule: (id, src, style = "string") =>
      context.Modules.addCached(id, style === "function" ? vm.runInContext(`(function () {\n${src}\n})`, context, { filename: id }) : src),
    require,
    run: (code) => vm.runInContext(code, context),
    sockets,
    tick(ms) {
      const end = now + ms;
      for (;;) {
        let best: [number, { fn: () => void; at: number; every: number }] | null = null;
        for (const e of timers) if (e[1].at <= end && (!best || e[1].at < best[1].at)) best = e;
        if (!best) break;
        now = best[1].at;
        if (best[1].every) best[1].at += best[1].every;
        else timers.delete(best[0]);
        best[1].fn();
      }
      now = end;
    },
  };
}
