// Simulated network: the real platform adapters run on fake `net`/`tls` modules whose sockets
// behave like Espruino's or Node's, on a VirtualClock, with fault injection. In a test:
//   const clock = new VirtualClock({ handles: mode === "node" ? "object" : "number" });
//   const sim = new SimNetwork({ clock, mode, chunkSize: 268, trace: (l) => lines.push(l) });
//   the adapter gets sim.net / sim.tls (and sim.E on Espruino) plus clock.env() for timers.
// Far side, pick one: startAedes(sim) (broker.ts; it does sim.onConnection(d => aedes.handle(d))),
//   new ScriptedBroker(sim) for byte-exact scripts, or sim.listen(conn => ...).
// Nothing happens until time moves: clock.advance(ms) / sim.flush() in synchronous tests,
//   `await sim.run(ms)` / `await sim.until(() => cond)` when aedes (real event loop) is involved.
// Client-visible events are queued on the clock, never emitted inside the call that caused them;
//   bytes toward the client are coalesced and re-chunked to <= chunkSize.
// Faults: sim.refuseNext(n, "throw"|"event"|"dns", {code}); on sim (the current connection, else
//   the next) or a SimConnection: dropAfter(n, "in"|"out"), halfOpen(), corruptNextByte(offset),
//   slowWrites(ms), cut(code?), throwOnWrite(n). Assert sim.violations is empty (non-string
//   writes and chars > 255 on Espruino). Node mode keeps written Uint8Arrays by reference until sent.

import { Duplex } from "node:stream";
import { EventEmitter } from "node:events";
import { VirtualClock } from "./clock";
import { PacketTracer } from "./trace";

export type Mode = "node" | "espruino";
/** "in": toward the client; "out": from the client toward the broker. */
export type Direction = "in" | "out";
export type Refusal = "throw" | "event" | "dns";

/** Espruino socket error messages by code (libs/network/socketerrors.c). */
export const ESPRUINO_ERRORS: Record<number, string> = {
  [-1]: "connection closed", [-2]: "out of memory", [-3]: "timeout", [-4]: "no route", [-5]: "busy",
  [-6]: "not found", [-7]: "max sockets", [-8]: "unsent data", [-9]: "connection reset",
  [-10]: "unknown error", [-11]: "no connection", [-12]: "bad argument",
  [-13]: "SSL handshake failed", [-14]: "invalid SSL data",
};

const TO_NODE: Record<number, string> = {
  [-1]: "ECONNRESET", [-2]: "ENOMEM", [-3]: "ETIMEDOUT", [-4]: "EHOSTUNREACH", [-5]: "EBUSY",
  [-6]: "ENOTFOUND", [-7]: "EMFILE", [-8]: "EPIPE", [-9]: "ECONNRESET", [-10]: "UNKNOWN",
  [-11]: "ENOTCONN", [-12]: "EINVAL", [-13]: "EPROTO", [-14]: "EPROTO",
};
const TO_ESPRUINO: Record<string, number> = {
  ECONNREFUSED: -9, ECONNRESET: -9, ETIMEDOUT: -3, ENOTFOUND: -6, EAI_AGAIN: -6, EHOSTUNREACH: -4,
  ENETUNREACH: -4, EPIPE: -8, EPROTO: -13, ENOMEM: -2, EMFILE: -7, ENOTCONN: -11, EINVAL: -12,
};
const ERRNO: Record<string, number> = {
  ECONNREFUSED: -111, ECONNRESET: -104, ETIMEDOUT: -110, ENOTFOUND: -3008, EHOSTUNREACH: -113,
  EPIPE: -32, EPROTO: -71,
};

interface Failure { esp: number; node: string }

function failure(code: number | string | undefined, connecting: boolean): Failure {
  if (typeof code === "string") return { esp: TO_ESPRUINO[code] ?? -10, node: code };
  const esp = code ?? -9;
  return { esp, node: esp === -9 && connecting ? "ECONNREFUSED" : TO_NODE[esp] ?? "UNKNOWN" };
}

function nodeError(code: string, host: string, port: number, connecting: boolean): Error {
  const e: any = new Error(
    code === "ENOTFOUND" ? `getaddrinfo ENOTFOUND ${host}`
      : connecting ? `connect ${code} ${host}:${port}` : `read ${code}`);
  e.code = code;
  if (ERRNO[code] !== undefined) e.errno = ERRNO[code];
  e.syscall = code === "ENOTFOUND" ? "getaddrinfo" : connecting ? "connect" : "read";
  if (code === "ENOTFOUND") e.hostname = host;
  else if (connecting) { e.address = host; e.port = port; }
  return e;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Uint8Array(n);
  n = 0;
  for (const c of chunks) { out.set(c, n); n += c.length; }
  return out;
}

/** One char per byte, as Espruino strings hold binary data. */
export function bytesToLatin1(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 4096) s += String.fromCharCode.apply(null, Array.from(b.subarray(i, i + 4096)));
  return s;
}

/** Bytes from a Uint8Array, a number array, or hex text ("30 05 00 01 61"; spaces optional). */
export function toBytes(x: Uint8Array | ArrayLike<number> | string): Uint8Array {
  if (typeof x !== "string") return Uint8Array.from(x as ArrayLike<number>);
  const hex = x.replace(/\s+/g, "");
  if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw new Error(`toBytes: not hex: ${x}`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Espruino's E.toString

export interface EspruinoE {
  /** Espruino's E.toString(...): one binary string of the arguments' bytes, or undefined. */
  toString(...args: any[]): string | undefined;
  /** The next `count` calls return undefined (no flat string could be allocated). 0 resets. */
  failNext(count?: number): void;
}

export function createEspruinoE(): EspruinoE {
  let fail = 0;
  function add(a: any, out: number[]): void {
    if (typeof a === "string") for (let i = 0; i < a.length; i++) out.push(a.charCodeAt(i) & 255);
    else if (typeof a === "number" || typeof a === "boolean") out.push(Number(a) & 255);
    else if (a instanceof ArrayBuffer) for (const v of new Uint8Array(a)) out.push(v);
    else if (a instanceof DataView) for (const v of new Uint8Array(a.buffer, a.byteOffset, a.byteLength)) out.push(v);
    else if (ArrayBuffer.isView(a) || Array.isArray(a)) for (let i = 0; i < (a as any).length; i++) add((a as any)[i], out);
    else if (a && typeof a === "object" && "data" in a) for (let n = a.count ?? 1; n > 0; n--) add(a.data, out);
  }
  return {
    toString(...args: any[]) {
      if (fail > 0) { fail--; return undefined; }
      const out: number[] = [];
      for (const a of args) add(a, out);
      return bytesToLatin1(Uint8Array.from(out));
    },
    failNext(count = 1) { fail = count; },
  };
}

// ---------------------------------------------------------------------------------------------
// Sockets as the client sees them

interface Facade {
  _connected(): void;
  /** Deliver one chunk; false if it cannot be taken now (Espruino socket without a data listener). */
  _data(b: Uint8Array): boolean;
  _drained(): void;
  _remoteEnd(): void;
  _failed(f: Failure, connecting: boolean): void;
  _localClosed(): void;
}

type Listener = (...args: any[]) => void;

/** Espruino's built-in object events: on/emit/removeListener/removeAllListeners; emit is queued. */
class EspruinoEmitter {
  private _ev: Record<string, Listener[]> = {};
  constructor(protected _clock: VirtualClock) {}
  on(ev: string, fn: Listener): void {
    (this._ev[ev] || (this._ev[ev] = [])).push(fn);
    this._listening(ev);
  }
  removeListener(ev: string, fn: Listener): void {
    const l = this._ev[ev];
    if (l && l.indexOf(fn) >= 0) l.splice(l.indexOf(fn), 1);
  }
  removeAllListeners(ev?: string): void {
    if (ev === undefined) this._ev = {};
    else delete this._ev[ev];
  }
  emit(ev: string, ...args: any[]): void {
    if (args.length > 4) throw new Error("Too many arguments");
    this._clock.setTimeout(() => this._fire(ev, args), 0);
  }
  protected _has(ev: string): boolean {
    return !!this._ev[ev] && this._ev[ev].length > 0;
  }
  protected _fire(ev: string, args: any[]): void {
    const l = this._ev[ev];
    if (l) for (const fn of l.slice()) fn.apply(this, args);
  }
  protected _later(ev: string, ...args: any[]): void {
    this._clock.setTimeout(() => this._fire(ev, args), 0);
  }
  protected _listening(_ev: string): void {}
}

/** A socket as returned by Espruino's net.connect / tls.connect (jswrap_net.c, socketserver.c). */
export class EspruinoSocket extends EspruinoEmitter implements Facade {
  private _unread = "";
  constructor(private _c: SimConnection) { super(_c.net.clock); }

  /** Converts x with its string conversion, like the firmware; always returns false. */
  write(x?: any): boolean {
    const c = this._c;
    c._maybeThrow();
    if (c._closedForClient) return false;
    let s: string;
    if (typeof x === "string") s = x;
    else {
      c.net._violation(`#${c.id} write(${describe(x)}) on an Espruino socket sends its string conversion`);
      s = x instanceof ArrayBuffer || ArrayBuffer.isView(x)
        ? Array.prototype.join.call(x instanceof ArrayBuffer ? new Uint8Array(x) : x, ",")
        : String(x);
    }
    const b = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) {
      const code = s.charCodeAt(i);
      if (code > 255) {
        c.net._violation(`#${c.id} write() of char code ${code} at ${i}: not a byte string`);
      }
      b[i] = code & 255;
    }
    if (b.length) c._clientWrite(b);
    return false;
  }

  /** Closes once everything written has been sent (optional final data). */
  end(x?: any): void {
    if (x !== undefined) this.write(x);
    this._c._clientEnd();
  }

  /** Bytes waiting because there is no data listener. */
  available(): number {
    return this._c._recvLength();
  }

  read(chars?: number): string {
    return bytesToLatin1(this._c._recvTake(chars || Infinity));
  }

  _connected(): void {
    this._later("connect", this);
    // Espruino gives `drain` the socket itself, as it does connect's callback.
    if (!this._c._sendLength()) this._later("drain", this);
  }
  _data(b: Uint8Array): boolean {
    if (!this._has("data")) return false;
    this._later("data", bytesToLatin1(b));
    return true;
  }
  _drained(): void {
    if (!this._c._ending) this._later("drain", this);
  }
  _remoteEnd(): void {
    // Espruino closes the whole socket; unsent data makes it an error (-8).
    const hadError = this._c._sendLength() > 0;
    if (hadError) this._later("error", { code: -8, message: ESPRUINO_ERRORS[-8] });
    this._c._close();
    this._later("end");
    this._later("close", hadError);
  }
  _failed(f: Failure): void {
    const hadError = f.esp !== -1;
    if (hadError) this._later("error", { code: f.esp, message: ESPRUINO_ERRORS[f.esp] ?? ESPRUINO_ERRORS[-10] });
    this._later("end");
    this._later("close", hadError);
  }
  _localClosed(): void {
    this._later("end");
    this._later("close", false);
  }
  protected _listening(ev: string): void {
    if (ev === "data") this._c._pump();
  }
}

function describe(x: any): string {
  if (x === null || typeof x !== "object") return typeof x;
  if (typeof Buffer !== "undefined" && Buffer.isBuffer(x)) return "Buffer";
  return x.constructor?.name ?? "object";
}

/** A socket as returned by Node's net.connect / tls.connect, reduced to what a client uses. */
export class NodeSocket extends EventEmitter implements Facade {
  connecting = true;
  destroyed = false;
  writable = true;
  readable = true;
  bytesRead = 0;
  bytesWritten = 0;
  readonly encrypted: boolean;
  authorized = false;
  private _needDrain = false;
  private _ended = false; // end() called
  private _remoteEnded = false;
  private _encoding: BufferEncoding | undefined;
  private _idleMs = 0;
  private _idleTimer: any;

  constructor(private _c: SimConnection) {
    super();
    this.encrypted = _c.secure;
    // A Node socket stays paused (buffering) until someone listens for data.
    this.on("newListener", (ev) => { if (ev === "data") _c._pump(); });
  }

  get writableLength(): number { return this._c._sendLength(); }
  get writableNeedDrain(): boolean { return this._needDrain; }
  get readyState(): string {
    if (this.connecting) return "opening";
    if (this.destroyed) return "closed";
    return this._ended ? "readOnly" : this._remoteEnded ? "writeOnly" : "open";
  }

  write(data: any, encoding?: any, cb?: (err?: Error | null) => void): boolean {
    if (typeof encoding === "function") { cb = encoding; encoding = undefined; }
    const c = this._c;
    if (typeof data !== "string" && !(data instanceof Uint8Array)) {
      const e: any = new TypeError(`The "chunk" argument must be of type string or an instance of Buffer or Uint8Array. Received ${describe(data)}`);
      e.code = "ERR_INVALID_ARG_TYPE";
      throw e;
    }
    c._maybeThrow();
    if (this.destroyed || this._ended) {
      const e: any = this.destroyed ? new Error("Cannot call write after a stream was destroyed") : new Error("write after end");
      e.code = this.destroyed ? "ERR_STREAM_DESTROYED" : "ERR_STREAM_WRITE_AFTER_END";
      c.net.clock.setTimeout(() => {
        if (cb) cb(e);
        if (e.code === "ERR_STREAM_WRITE_AFTER_END" && !this.destroyed) this.destroy(e);
      }, 0);
      return false;
    }
    // Like Node, a Uint8Array is kept by reference until the socket takes it.
    const b = typeof data === "string" ? Buffer.from(data, encoding || "utf8") : data;
    this.bytesWritten += b.length;
    c._clientWrite(b, cb);
    this._touch();
    const ok = c._sendLength() < c.net.highWaterMark;
    if (!ok) this._needDrain = true;
    return ok;
  }

  end(data?: any, encoding?: any, cb?: () => void): this {
    if (typeof data === "function") { cb = data; data = undefined; }
    if (typeof encoding === "function") { cb = encoding; encoding = undefined; }
    if (data != null) this.write(data, encoding);
    if (cb) this.once("finish", cb);
    if (!this._ended && !this.destroyed) {
      this._ended = true;
      this.writable = false;
      this._c._clientEnd();
    }
    return this;
  }

  destroy(err?: Error): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.connecting = false;
    this.writable = this.readable = false;
    this._c._clientDestroy();
    this._clearIdle();
    this._c.net.clock.setTimeout(() => {
      if (err) this.emit("error", err);
      this.emit("close", !!err);
    }, 0);
    return this;
  }

  setEncoding(enc?: BufferEncoding): this { this._encoding = enc || "utf8"; return this; }
  setNoDelay(): this { return this; }
  setKeepAlive(): this { return this; }
  ref(): this { return this; }
  unref(): this { return this; }

  /** Idle timeout on the virtual clock: 'timeout' after ms without reads or writes (0 disables). */
  setTimeout(ms: number, cb?: () => void): this {
    if (cb) this.once("timeout", cb);
    this._idleMs = ms;
    this._touch();
    return this;
  }

  private _touch(): void {
    this._clearIdle();
    if (this._idleMs > 0 && !this.destroyed) {
      this._idleTimer = this._c.net.clock.setTimeout(() => this.emit("timeout"), this._idleMs);
    }
  }
  private _clearIdle(): void {
    if (this._idleTimer !== undefined) this._c.net.clock.clearTimeout(this._idleTimer);
    this._idleTimer = undefined;
  }

  _connected(): void {
    this._c.net.clock.setTimeout(() => {
      if (this.destroyed) return;
      this.connecting = false;
      this.authorized = this.encrypted;
      this._touch();
      this.emit("connect");
      this.emit("ready");
      if (this.encrypted) this.emit("secureConnect");
    }, 0);
  }
  _data(b: Uint8Array): boolean {
    if (this.listenerCount("data") === 0) return false;
    const buf = Buffer.from(b);
    this._c.net.clock.setTimeout(() => {
      if (this.destroyed) return;
      this.bytesRead += buf.length;
      this._touch();
      this.emit("data", this._encoding ? buf.toString(this._encoding) : buf);
    }, 0);
    return true;
  }
  _drained(): void {
    this._c.net.clock.setTimeout(() => {
      if (this._needDrain && !this.destroyed) {
        this._needDrain = false;
        this.emit("drain");
      }
    }, 0);
  }
  _remoteEnd(): void {
    this._remoteEnded = true;
    this._c.net.clock.setTimeout(() => {
      if (this.destroyed) return;
      this.readable = false;
      this.emit("end");
      this.end(); // allowHalfOpen is false: answer the FIN, then close once it is sent
    }, 0);
  }
  _failed(f: Failure, connecting: boolean): void {
    const c = this._c;
    const err = nodeError(f.node, c.host, c.port, connecting);
    this._clearIdle();
    c.net.clock.setTimeout(() => {
      if (this.destroyed) return;
      this.destroyed = true;
      this.connecting = false;
      this.writable = this.readable = false;
      this.emit("error", err);
      this.emit("close", true);
    }, 0);
  }
  _localClosed(): void {
    // Our FIN went out; 'finish' now, 'close' once the peer's FIN has been read too.
    this._c.net.clock.setTimeout(() => {
      this.emit("finish");
      if (this._remoteEnded) this._closeClean();
    }, 0);
  }
  /** Called when the remote FIN arrives after our own end() completed. */
  _bothEnded(): void {
    this._c.net.clock.setTimeout(() => this._closeClean(), 0);
  }
  private _closeClean(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.writable = this.readable = false;
    this._clearIdle();
    this.emit("close", false);
  }
}

// ---------------------------------------------------------------------------------------------
// One TCP connection: both byte streams, the fault model, and the far side.

/** What a raw far-side listener (sim.listen) attaches to a connection. */
export interface FarEnd {
  /** Bytes the client wrote, as they arrive at the far side. */
  data?(b: Uint8Array): void;
  /** The client's FIN arrived (after all its data). */
  end?(): void;
  /** The link broke (cut/dropAfter): the far side sees a reset. */
  reset?(): void;
}

export type ConnState = "connecting" | "open" | "closed" | "refused";

export class SimConnection {
  readonly id: number;
  readonly socket: EspruinoSocket | NodeSocket;
  state: ConnState = "connecting";
  /** Per-connection overrides of the network's settings. */
  latency?: number;
  chunkSize?: number;
  writeDelay?: number;
  /** How the connection was refused, if it was. */
  refused?: Refusal;
  readonly far: FarEnd[] = [];

  private sendQ: { b: Uint8Array; off: number; cb?: (err?: Error | null) => void }[] = [];
  private sendLen = 0;
  private taking = false;
  private recv: Uint8Array[] = [];
  private recvLen = 0;
  private pumping = false;
  private finIn = false; // the far side's FIN reached the client side
  private remoteEnded = false;
  private cutWhenDelivered = false;
  private lastIn = 0;
  private lastOut = 0;
  private inCount = 0;
  private dropIn?: number;
  private dropOut?: number;
  private corruptAt: { pos: number; xor: number }[] = [];
  private writeThrows = 0;
  private writeThrowMsg = "Out of Memory!";
  private silent = false; // halfOpen
  private broken = false; // cut / reset
  private clientFinSent = false;
  private serverFinSent = false;
  private outLog: Uint8Array[] = [];
  private inLog: Uint8Array[] = [];
  private tracer?: PacketTracer;
  private _duplex?: Duplex;
  /** Client called end(): close after the send buffer empties. */
  _ending = false;
  /** No further client-visible activity: writes are dropped. */
  _closedForClient = false;

  constructor(
    readonly net: SimNetwork,
    readonly host: string,
    readonly port: number,
    readonly secure: boolean,
    readonly options: any,
  ) {
    this.id = net.connections.length + 1;
    this.socket = net.mode === "espruino" ? new EspruinoSocket(this) : new NodeSocket(this);
    if (net.trace) this.tracer = new PacketTracer(net.trace);
  }

  private get lat(): number { return this.latency ?? this.net.latency; }
  private get chunk(): number { return Math.max(1, this.chunkSize ?? this.net.chunkSize); }
  private get wdelay(): number { return this.writeDelay ?? this.net.writeDelay; }
  private get clock(): VirtualClock { return this.net.clock; }

  /** Every byte of the client's that reached the far side. */
  outBytes(): Uint8Array { return concat(this.outLog); }
  /** Every byte delivered to the client. */
  inBytes(): Uint8Array { return concat(this.inLog); }

  /** The far side as a Node Duplex (created on first call; aedes.handle(conn.duplex())). */
  duplex(): Duplex {
    if (this._duplex) return this._duplex;
    const conn = this;
    const d = new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) { conn.serverWrite(chunk); cb(); },
      final(cb) { conn.serverEnd(); cb(); },
      destroy(err, cb) { conn.serverEnd(); cb(err); },
    });
    this.far.push({
      data: (b) => { d.push(Buffer.from(b)); },
      end: () => { d.push(null); },
      reset: () => {
        if (d.listenerCount("error") > 0) d.destroy(nodeError("ECONNRESET", this.host, this.port, false));
        else d.destroy();
      },
    });
    this._duplex = d;
    return d;
  }

  // ---- far side API

  /** Bytes from the broker toward the client (through corruption, dropAfter, latency, chunking). */
  serverWrite(data: Uint8Array | ArrayLike<number> | string): void {
    let b = typeof data === "string" || !(data instanceof Uint8Array) ? toBytes(data) : Uint8Array.from(data);
    if (this.silent || this.broken || this.serverFinSent || this.state !== "open") return;
    for (const c of this.corruptAt.slice()) {
      const i = c.pos - this.inCount;
      if (i >= 0 && i < b.length) {
        b[i] ^= c.xor;
        this.corruptAt.splice(this.corruptAt.indexOf(c), 1);
      }
    }
    this.inCount += b.length;
    let cutAfter = false;
    if (this.dropIn !== undefined) {
      if (b.length >= this.dropIn) {
        b = b.subarray(0, this.dropIn);
        cutAfter = true;
        this.serverFinSent = true; // nothing more goes toward the client
      }
      this.dropIn -= b.length;
    }
    this.atIn(() => {
      if (b.length) { this.recv.push(b); this.recvLen += b.length; }
      if (cutAfter) this.cutWhenDelivered = true;
      this._pump();
    });
  }

  /** The broker closes its side (FIN), after the data it already wrote. */
  serverEnd(): void {
    if (this.silent || this.broken || this.serverFinSent || this.state !== "open") return;
    this.serverFinSent = true;
    this.note("server closed");
    this.atIn(() => { this.finIn = true; this._pump(); });
  }

  // ---- faults

  /** Drop the link after n more bytes in that direction: the first n get through, then a reset. */
  dropAfter(n: number, dir: Direction): void {
    if (dir === "in") this.dropIn = n; else this.dropOut = n;
  }

  /** From now on nothing gets through either way and nobody is told: writes vanish. */
  halfOpen(): void {
    this.silent = true;
    this.recv = [];
    this.recvLen = 0;
    this.finIn = false;
    this.note("half-open");
  }

  /** XOR (default 0xff) the byte at `offset` among the next bytes toward the client. */
  corruptNextByte(offset = 0, xor = 0xff): void {
    this.corruptAt.push({ pos: this.inCount + offset, xor });
  }

  /** The socket takes writes ms late (drain and write callbacks come later). */
  slowWrites(ms: number): void {
    this.writeDelay = ms;
  }

  /** The next `count` socket.write() calls throw (Espruino out of memory). */
  throwOnWrite(count = 1, message = "Out of Memory!"): void {
    this.writeThrows = count;
    this.writeThrowMsg = message;
  }

  /**
   * Abrupt loss now: undelivered bytes are lost; the client gets error (code, default -9 /
   * ECONNRESET; -3 gives ETIMEDOUT) then close; the far side sees a reset.
   */
  cut(code?: number | string): void {
    if (this.state !== "open" && this.state !== "connecting") return;
    const connecting = this.state === "connecting";
    this.broken = true;
    this.recv = [];
    this.recvLen = 0;
    this.sendQ = [];
    this.sendLen = 0;
    this._close();
    this.note("cut");
    this.socket._failed(failure(code, connecting), connecting);
    if (!connecting) for (const f of this.far) f.reset?.();
  }

  // ---- internals used by the sockets and the network

  _maybeThrow(): void {
    if (this.writeThrows > 0) {
      this.writeThrows--;
      throw new Error(this.writeThrowMsg);
    }
  }

  _sendLength(): number { return this.sendLen; }
  _recvLength(): number { return this.recvLen; }

  _recvTake(max: number): Uint8Array {
    const out: Uint8Array[] = [];
    let n = 0;
    while (this.recv.length && n < max) {
      const head = this.recv[0];
      const k = Math.min(head.length, max - n);
      out.push(head.subarray(0, k));
      n += k;
      if (k === head.length) this.recv.shift(); else this.recv[0] = head.subarray(k);
    }
    this.recvLen -= n;
    const b = concat(out);
    if (b.length) this.delivered(b);
    this._pump(); // a pending close may now proceed
    return b;
  }

  _clientWrite(b: Uint8Array, cb?: (err?: Error | null) => void): void {
    if (this._closedForClient || this._ending) {
      if (cb) this.clock.setTimeout(() => cb(new Error("socket closed")), 0);
      return;
    }
    this.sendQ.push({ b, off: 0, cb });
    this.sendLen += b.length;
    this.scheduleTake();
  }

  _clientEnd(): void {
    if (this._closedForClient || this._ending) return;
    this._ending = true;
    if (this.state === "connecting" && this.net.mode === "espruino" && !this.sendLen) {
      // Espruino closes "now" when there is nothing to send; the attempt is abandoned.
      this.state = "closed";
      this._closedForClient = true;
      this.socket._localClosed();
      return;
    }
    if (!this.sendLen && this.state === "open") this.finishEnd();
  }

  _clientDestroy(): void {
    const wasOpen = this.state === "open";
    this.sendQ = [];
    this.sendLen = 0;
    this._close();
    if (wasOpen) this.sendFin();
  }

  _close(): void {
    if (this.state === "open" || this.state === "connecting") this.state = "closed";
    this._closedForClient = true;
  }

  /** Establishes the connection (on the clock): the far side attaches, then the client is told. */
  _establish(listener: (c: SimConnection) => void): void {
    if (this.state !== "connecting") return;
    this.state = "open";
    this.note(`connect ${this.host}:${this.port}${this.secure ? " tls" : ""}`);
    listener(this);
    this.socket._connected();
    this.scheduleTake();
    if (this._ending && !this.sendLen) this.finishEnd();
  }

  _refuse(how: Refusal, f: Failure): void {
    this.state = "refused";
    this.refused = how;
    this._closedForClient = true;
    this.note(`refused (${how}, ${this.net.mode === "node" ? f.node : f.esp})`);
    this.socket._failed(f, true);
  }

  /** Delivers one chunk toward the client; reschedules itself while bytes remain. */
  _pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    this.clock.setTimeout(() => {
      this.pumping = false;
      if (this.broken || this.silent || this.state !== "open") return;
      if (this.recvLen > 0) {
        // one read: up to chunkSize bytes, coalescing what has arrived, as a TCP read does
        const parts: Uint8Array[] = [];
        let n = 0;
        for (const r of this.recv) {
          if (n >= this.chunk) break;
          const k = Math.min(r.length, this.chunk - n);
          parts.push(r.subarray(0, k));
          n += k;
        }
        const piece = parts.length === 1 ? parts[0] : concat(parts);
        if (!this.socket._data(piece)) return; // waits for a data listener (or read())
        this.dropFromRecv(piece.length);
        this.delivered(piece);
        if (this.recvLen > 0 || this.cutWhenDelivered || this.finIn) this._pump();
        return;
      }
      if (this.cutWhenDelivered) { this.cutWhenDelivered = false; this.cut(); return; }
      if (!this.finIn) return;
      this.finIn = false;
      this.remoteEnded = true;
      const s = this.socket;
      if (s instanceof NodeSocket) {
        if (this.clientFinSent) this._close();
        s._remoteEnd();
        if (this.clientFinSent) s._bothEnded();
      } else {
        s._remoteEnd();
        this.sendQ = [];
        this.sendLen = 0;
        this.sendFin(); // Espruino closes its whole socket
      }
    }, 0);
  }

  private dropFromRecv(n: number): void {
    this.recvLen -= n;
    while (n > 0) {
      const head = this.recv[0];
      if (head.length <= n) { this.recv.shift(); n -= head.length; }
      else { this.recv[0] = head.subarray(n); n = 0; }
    }
  }

  private delivered(b: Uint8Array): void {
    const copy = Uint8Array.from(b);
    this.inLog.push(copy);
    this.tracer?.in(copy);
  }

  private scheduleTake(): void {
    if (this.taking || this.state !== "open" || !this.sendLen) return;
    this.taking = true;
    this.clock.setTimeout(() => this.take(), this.wdelay);
  }

  /** The socket takes bytes from its send buffer (all in Node, one chunk per round on Espruino). */
  private take(): void {
    this.taking = false;
    if (this.state !== "open" || this.broken) return;
    const max = this.net.mode === "espruino" ? this.chunk : Infinity;
    const parts: Uint8Array[] = [];
    const done: ((err?: Error | null) => void)[] = [];
    let n = 0;
    while (this.sendQ.length && n < max) {
      const q = this.sendQ[0];
      const k = Math.min(q.b.length - q.off, max - n);
      parts.push(Uint8Array.from(q.b.subarray(q.off, q.off + k))); // copied only now
      q.off += k;
      n += k;
      if (q.off === q.b.length) {
        this.sendQ.shift();
        if (q.cb) done.push(q.cb);
      }
    }
    this.sendLen -= n;
    this.toWire(concat(parts));
    for (const cb of done) cb(null);
    if (this.sendLen) { this.scheduleTake(); return; }
    this.socket._drained();
    if (this._ending) this.finishEnd();
  }

  private finishEnd(): void {
    if (this.net.mode === "espruino") {
      this._close();
      this.socket._localClosed();
      this.sendFin();
    } else {
      this.sendFin();
      if (this.remoteEnded) this._close();
      (this.socket as NodeSocket)._localClosed();
    }
  }

  private sendFin(): void {
    if (this.clientFinSent || this.broken) return;
    this.clientFinSent = true;
    if (this.silent) return;
    this.note("client closed");
    this.atOut(() => { for (const f of this.far) f.end?.(); });
  }

  private toWire(b: Uint8Array): void {
    if (this.silent || !b.length) return;
    let cutAfter = false;
    if (this.dropOut !== undefined) {
      if (b.length >= this.dropOut) { b = b.subarray(0, this.dropOut); cutAfter = true; }
      this.dropOut -= b.length;
    }
    this.atOut(() => {
      if (b.length) {
        this.outLog.push(b);
        this.tracer?.out(b);
        for (const f of this.far) f.data?.(b);
      }
      if (cutAfter) this.cut();
    });
  }

  /** Runs fn when bytes sent now arrive at the far side (FIFO, after latency). */
  private atOut(fn: () => void): void {
    const t = Math.max(this.clock.elapsed() + this.lat, this.lastOut);
    this.lastOut = t;
    this.clock.setTimeout(() => { if (!this.broken) fn(); }, t - this.clock.elapsed());
  }

  /** Runs fn when bytes the far side sends now arrive at the client (FIFO, after latency). */
  private atIn(fn: () => void): void {
    const t = Math.max(this.clock.elapsed() + this.lat, this.lastIn);
    this.lastIn = t;
    this.clock.setTimeout(() => { if (!this.broken && !this.silent) fn(); }, t - this.clock.elapsed());
  }

  private note(what: string): void {
    this.net.trace?.(`· #${this.id} ${what}`);
  }
}

// ---------------------------------------------------------------------------------------------

export interface SimOptions {
  clock: VirtualClock;
  mode: Mode;
  /** Max bytes per data event (default 536 Espruino, 65536 Node; 268 models ESP8266). */
  chunkSize?: number;
  /** One-way delay in ms for connecting and for bytes either way (default 0). */
  latency?: number;
  /** Delay before the socket takes written bytes (default 0). */
  writeDelay?: number;
  /** Node: write() returns false once this many bytes wait unsent (default 16384). */
  highWaterMark?: number;
  /** Whether a tls module exists (false models ESP8266; sim.tls is then undefined). */
  tls?: boolean;
  /** Receives packet trace lines ("→ CONNECT ...") and connection notes ("· #1 cut"). */
  trace?: (line: string) => void;
}

export interface NetModule {
  connect(options: any, ...rest: any[]): EspruinoSocket | NodeSocket;
}

type PendingFault = (c: SimConnection) => void;

export class SimNetwork {
  readonly clock: VirtualClock;
  readonly mode: Mode;
  chunkSize: number;
  latency: number;
  writeDelay: number;
  highWaterMark: number;
  readonly trace?: (line: string) => void;
  /** Every connection attempt, refused ones included, in order. */
  readonly connections: SimConnection[] = [];
  /** Things a real Espruino board would do differently from what the client seems to expect. */
  readonly violations: string[] = [];
  /** Espruino's E.toString, with a failNext() knob. */
  readonly E: EspruinoE = createEspruinoE();
  readonly net: NetModule;
  readonly tls: NetModule | undefined;

  private listener: ((c: SimConnection) => void) | null = null;
  private refusals: { how: Refusal; code?: number | string; after?: number; message?: string }[] = [];
  private pendingFaults: PendingFault[] = [];

  constructor(opts: SimOptions) {
    this.clock = opts.clock;
    this.mode = opts.mode;
    this.chunkSize = opts.chunkSize ?? (opts.mode === "espruino" ? 536 : 65536);
    this.latency = opts.latency ?? 0;
    this.writeDelay = opts.writeDelay ?? 0;
    this.highWaterMark = opts.highWaterMark ?? 16384;
    this.trace = opts.trace;
    this.net = { connect: (o: any, ...rest: any[]) => this.connect(false, o, rest) };
    this.tls = opts.tls === false ? undefined : { connect: (o: any, ...rest: any[]) => this.connect(true, o, rest) };
  }

  /** The latest connection that is connecting or open. */
  get current(): SimConnection | undefined {
    for (let i = this.connections.length - 1; i >= 0; i--) {
      const c = this.connections[i];
      if (c.state === "open" || c.state === "connecting") return c;
    }
    return undefined;
  }

  /** Raw far side: fn gets each established connection (null: refuse every connection). */
  listen(fn: ((c: SimConnection) => void) | null): void {
    this.listener = fn;
  }

  /** Far side as a Node Duplex per connection, e.g. (d) => aedes.handle(d). */
  onConnection(fn: ((duplex: Duplex, c: SimConnection) => void) | null): void {
    this.listener = fn ? (c) => fn(c.duplex(), c) : null;
  }

  /**
   * The next `count` connection attempts fail. "throw": connect() throws (Espruino "Unable to
   * create socket"; Node RangeError ERR_SOCKET_BAD_PORT). "dns": Espruino throws "Unable to
   * locate host"; Node emits ENOTFOUND. "event": error then close after `after` ms (default
   * latency) with `code` (Espruino number or Node string; default -9 / ECONNREFUSED).
   */
  refuseNext(count: number, how: Refusal, opts: { code?: number | string; after?: number; message?: string } = {}): void {
    for (let i = 0; i < count; i++) this.refusals.push({ how, ...opts });
  }

  dropAfter(n: number, dir: Direction): void { this.fault((c) => c.dropAfter(n, dir)); }
  halfOpen(): void { this.fault((c) => c.halfOpen()); }
  corruptNextByte(offset = 0, xor = 0xff): void { this.fault((c) => c.corruptNextByte(offset, xor)); }
  throwOnWrite(count = 1, message?: string): void { this.fault((c) => c.throwOnWrite(count, message)); }
  /** Every connection takes writes ms late from now on. */
  slowWrites(ms: number): void { this.writeDelay = ms; }
  /** Cuts the current connection now (no-op if none). */
  cut(code?: number | string): void { this.current?.cut(code); }

  /** Runs what is due now on the clock. */
  flush(): void { this.clock.advance(0); }

  /** Advances the clock by ms in steps, letting the real event loop (aedes) run between steps. */
  async run(ms: number, stepMs = 10): Promise<void> {
    const end = this.clock.elapsed() + ms;
    await settle();
    while (this.clock.elapsed() < end) {
      this.clock.advance(Math.min(stepMs, end - this.clock.elapsed()));
      await settle();
    }
  }

  /** Like run() until pred() holds; throws after maxMs of virtual time. */
  async until(pred: () => boolean, maxMs = 10000, stepMs = 10): Promise<void> {
    const end = this.clock.elapsed() + maxMs;
    await settle();
    while (!pred()) {
      if (this.clock.elapsed() >= end) {
        throw new Error(`sim.until: not true after ${maxMs} ms of virtual time: ${String(pred).slice(0, 200)}`);
      }
      this.clock.advance(Math.min(stepMs, end - this.clock.elapsed()));
      await settle();
    }
  }

  _violation(msg: string): void {
    this.violations.push(msg);
  }

  private fault(f: PendingFault): void {
    const c = this.current;
    if (c) f(c); else this.pendingFaults.push(f);
  }

  private connect(secure: boolean, o: any, rest: any[]): EspruinoSocket | NodeSocket {
    let host: string;
    let port: number;
    let cb: Listener | undefined;
    if (this.mode === "espruino") {
      // jswrap_net_connect: options object or URL string; callback(socket) on connect.
      if (typeof o === "string") o = parseEspruinoUrl(o);
      if (!o || typeof o !== "object") throw new Error(`Expecting Options to be an Object but it was ${typeof o}`);
      cb = rest[0];
      if (cb !== undefined && typeof cb !== "function") throw new Error(`Expecting Callback Function but got ${typeof cb}`);
      host = o.host === undefined ? "localhost" : String(o.host);
      port = (Number(o.port) | 0) & 0xffff || (secure ? 443 : 80);
    } else {
      if (typeof o === "number" || typeof o === "string") {
        const [h, c2] = typeof rest[0] === "string" ? [rest[0], rest[1]] : [undefined, rest[0]];
        o = { port: o, host: h };
        cb = c2;
      } else {
        cb = typeof rest[0] === "function" ? rest[0] : rest[1];
      }
      if (!o || o.port === undefined) {
        const e: any = new TypeError('The "options" or "port" or "path" argument must be specified');
        e.code = "ERR_MISSING_ARGS";
        throw e;
      }
      port = typeof o.port === "string" && /^\d+$/.test(o.port) ? Number(o.port) : o.port;
      if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65535) {
        throw badPort(o.port);
      }
      host = o.host ?? "localhost";
    }

    const conn = new SimConnection(this, host, port, secure, o);
    this.connections.push(conn);
    const refusal = this.refusals.shift();

    if (refusal && (refusal.how === "throw" || (refusal.how === "dns" && this.mode === "espruino"))) {
      conn.state = "refused";
      conn.refused = refusal.how;
      conn._closedForClient = true;
      this.trace?.(`· #${conn.id} connect ${host}:${port} threw (${refusal.how})`);
      if (this.mode === "node") throw badPort(port);
      throw new Error(refusal.message ?? (refusal.how === "dns" ? "Unable to locate host" : "Unable to create socket"));
    }

    const s = conn.socket;
    if (cb) {
      if (s instanceof NodeSocket) s.once(secure ? "secureConnect" : "connect", cb);
      else s.on("connect", cb);
    }
    for (const f of this.pendingFaults.splice(0)) f(conn);

    if (refusal) {
      const f = failure(refusal.how === "dns" ? "ENOTFOUND" : refusal.code, true);
      this.clock.setTimeout(() => conn._refuse(refusal.how, f), refusal.after ?? this.latency);
    } else {
      this.clock.setTimeout(() => {
        if (conn.state !== "connecting") return;
        if (this.listener) conn._establish(this.listener);
        else conn._refuse("event", failure(undefined, true));
      }, this.latency);
    }
    return s;
  }
}

function badPort(p: any): Error {
  const e: any = new RangeError(`Port should be >= 0 and < 65536. Received ${typeof p === "number" ? `type number (${p})` : `type ${typeof p} (${String(p)})`}.`);
  e.code = "ERR_SOCKET_BAD_PORT";
  return e;
}

/** Host and port the way Espruino's url.parse finds them (jswrap_url_parse). */
function parseEspruinoUrl(url: string): { host: string; port: number | null; protocol?: string } {
  let slashes = 0, colons = 0, addrStart = -1, portStart = -1, pathStart = -1, port = 0;
  for (let i = 0; i < url.length; i++) {
    const ch = url[i];
    if (ch === "/") {
      slashes++;
      if (pathStart < 0) pathStart = i;
      if (colons === 1 && slashes === 2 && addrStart < 0) { addrStart = i; pathStart = -1; }
    }
    if (ch === ":") {
      colons++;
      if (addrStart >= 0 && pathStart < 0) portStart = i;
    }
    if (portStart >= 0 && i > portStart && pathStart < 0 && ch >= "0" && ch <= "9") port = port * 10 + (ch.charCodeAt(0) - 48);
  }
  if (pathStart < 0) pathStart = url.length;
  const addrEnd = portStart >= 0 ? portStart : pathStart;
  return {
    protocol: addrStart > 0 ? url.slice(0, addrStart - 1) : undefined,
    host: url.slice(addrStart + 1, addrEnd),
    port: port <= 0 || port > 65535 ? null : port,
  };
}

/** Lets the real event loop run (aedes, its persistence, stream internals). */
async function settle(): Promise<void> {
  for (let i = 0; i < 4; i++) await new Promise<void>((r) => setImmediate(r));
}
