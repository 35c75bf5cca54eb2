// An Espruino-shaped host for Duktape, in ES5. No real network and no real time: a virtual loop
// runs queued events and timers, Date.now reads the virtual clock, and require("net") gives
// sockets whose far end is a SCRIPTED broker in this same script (Broker below). The facts
// modelled are those of Espruino 2v29 (https://www.espruino.com/Reference#net and libs/network/
// in the Espruino source; measured on its Linux build):
//  - sockets deliver Strings (one char per byte) in chunks of at most TARGET.chunk bytes;
//  - socket.write() converts its argument with String(): a typed array would go out as
//    "1,2,3" text, so a non-string write is recorded as a failure (Host.faults);
//  - write() returns false and `drain` follows; events are emitted asynchronously (queued);
//  - a remote close gives `end` then `close`; errors are {code, message};
//  - modules are loaded as the Web IDE does: Modules.addCached(id, function(){...}), then
//    require(id), with `exports`/`module` visible to the module code and nothing else.
// Output is print()ed lines; the checks script prints "RESULT <name> PASS|FAIL <why>".
var G = this;
var Host = { faults: [] };

if (typeof console === "undefined") G.console = {};
console.log = function () {
  print("LOG " + Array.prototype.join.call(arguments, " "));
};
console.warn = console.error = console.log;

// ---- the virtual loop ------------------------------------------------------------------------
var Loop = (function () {
  var mono = 0, start = 1700000000000, timers = [], queue = [], seq = 0, ran = 0;
  function drain() {
    while (queue.length) {
      var f = queue.shift();
      if (++ran > 5000000) throw new Error("loop: runaway event queue");
      f();
    }
  }
  function next() {
    var best = null;
    for (var i = 0; i < timers.length; i++)
      if (!best || timers[i].due < best.due || (timers[i].due == best.due && timers[i].seq < best.seq)) best = timers[i];
    return best;
  }
  function add(fn, ms, every) {
    if (typeof fn != "function") throw new Error("timer callback is not a function");
    ms = +ms || 0;
    if (ms < 0) ms = 0;
    var t = { id: ++seq, seq: seq, due: mono + ms, fn: fn, every: every ? Math.max(ms, 1) : 0 };
    timers.push(t);
    return t.id;
  }
  function clear(id) {
    for (var i = 0; i < timers.length; i++)
      if (timers[i].id === id) {
        timers.splice(i, 1);
        return;
      }
  }
  return {
    /** Queues an event handler call, as Espruino's idle loop does. */
    post: function (f) {
      queue.push(f);
    },
    /** Runs events and timers for `ms` of virtual time. */
    run: function (ms) {
      var end = mono + (ms || 0), t;
      drain();
      while ((t = next()) && t.due <= end) {
        mono = t.due;
        if (t.every) {
          t.due += t.every;
          t.seq = ++seq;
        } else clear(t.id);
        t.fn();
        drain();
      }
      mono = end;
    },
    now: function () {
      return start + mono;
    },
    mono: function () {
      return mono;
    },
    timers: function () {
      return timers.length;
    },
    add: add,
    clear: clear,
  };
})();

Date.now = function () {
  return Loop.now();
};
// Extra arguments are passed to fn, as every host's timers do.
function bound(fn, args) {
  return function () {
    fn.apply(null, Array.prototype.slice.call(args, 2));
  };
}
G.setTimeout = function (fn, ms) {
  return Loop.add(bound(fn, arguments), ms, false);
};
G.setInterval = function (fn, ms) {
  return Loop.add(bound(fn, arguments), ms, true);
};
G.clearTimeout = G.clearInterval = function (id) {
  Loop.clear(id);
};

// ---- E ---------------------------------------------------------------------------------------
G.E = {
  /** One flat 8-bit string of the bytes (Espruino returns undefined when it has no room). */
  toString: function (u8) {
    if (!(u8 instanceof Uint8Array)) Host.faults.push("E.toString got " + Object.prototype.toString.call(u8));
    var s = "", i, n = u8.length;
    for (i = 0; i < n; i += 256) s += String.fromCharCode.apply(null, u8.subarray(i, Math.min(n, i + 256)));
    return s;
  },
};

// ---- bytes helpers ---------------------------------------------------------------------------
/** An 8-bit string of byte values and strings: B(0x10, 4, "MQTT"). */
function B() {
  var s = "", a;
  for (var i = 0; i < arguments.length; i++) {
    a = arguments[i];
    s += typeof a == "number" ? String.fromCharCode(a) : a;
  }
  return s;
}
function hex(s) {
  var o = [];
  for (var i = 0; i < s.length && i < 64; i++) o.push((s.charCodeAt(i) < 16 ? "0" : "") + s.charCodeAt(i).toString(16));
  return o.join(" ") + (s.length > 64 ? " ...(" + s.length + " B)" : "");
}
/** A whole packet: fixed header byte, Remaining Length, body. */
function pkt(first, body) {
  var n = body.length, len = "";
  do {
    var d = n & 127;
    n >>= 7;
    len += String.fromCharCode(n ? d | 128 : d);
  } while (n);
  return String.fromCharCode(first) + len + body;
}
function u16(n) {
  return String.fromCharCode((n >> 8) & 255, n & 255);
}
function mstr(s) {
  return u16(s.length) + s;
}

// ---- the scripted broker and the sockets -----------------------------------------------------
var Broker = {
  /** Every socket opened, in order. */
  sockets: [],
  /** Every packet the client wrote: {sock, type, flags, raw, body, at (Host.log index)}. */
  rx: [],
  /** Reply to each client packet automatically (CONNACK, SUBACK, PUBACK, PINGRESP). */
  auto: { connack: true, suback: true, puback: true, pingresp: true },
  /** SUBACK code per filter (the granted QoS). */
  grant: null,
  /** Sends bytes to the client: chunks of `chunk` bytes (default TARGET.chunk), one data event each. */
  send: function (sock, bytes, chunk) {
    chunk = chunk || TARGET.chunk;
    for (var i = 0; i < bytes.length; i += chunk) sock._emit("data", bytes.substr(i, chunk));
  },
  last: function (type) {
    for (var i = this.rx.length - 1; i >= 0; i--) if (type == null || this.rx[i].type == type) return this.rx[i];
    return null;
  },
  count: function (type) {
    var n = 0;
    for (var i = 0; i < this.rx.length; i++) if (this.rx[i].type == type) n++;
    return n;
  },
  /** Splits the client's byte stream into packets and answers them. */
  _in: function (sock, s) {
    sock._buf += s;
    for (;;) {
      var b = sock._buf, i = 1, len = 0, mul = 1, c;
      if (b.length < 2) return;
      do {
        if (i >= b.length) return;
        c = b.charCodeAt(i++);
        len += (c & 127) * mul;
        mul *= 128;
      } while (c & 128 && i < 5);
      if (b.length < i + len) return;
      var p = { sock: sock, type: b.charCodeAt(0) >> 4, flags: b.charCodeAt(0) & 15, raw: b.substr(0, i + len), body: b.substr(i, len), at: Host.log.length };
      sock._buf = b.substr(i + len);
      this.rx.push(p);
      Host.log.push("rx:" + p.type);
      this._reply(p);
    }
  },
  _reply: function (p) {
    var s = p.sock, a = this.auto;
    if (p.type == 1 && a.connack) this.send(s, B(0x20, 2, 0, 0));
    else if (p.type == 8 && a.suback) {
      var codes = "", o = 2, body = p.body;
      while (o < body.length) {
        var n = body.charCodeAt(o) * 256 + body.charCodeAt(o + 1);
        codes += String.fromCharCode(this.grant == null ? body.charCodeAt(o + 2 + n) : this.grant);
        o += n + 3;
      }
      this.send(s, pkt(0x90, body.substr(0, 2) + codes));
    } else if (p.type == 10) this.send(s, pkt(0xb0, p.body.substr(0, 2)));
    else if (p.type == 3 && (p.flags & 6) == 2 && a.puback) {
      var tl = p.body.charCodeAt(0) * 256 + p.body.charCodeAt(1);
      this.send(s, pkt(0x40, p.body.substr(2 + tl, 2)));
    } else if (p.type == 12 && a.pingresp) this.send(s, B(0xd0, 0));
  },
};

/** The order of things seen by the host: "rx:<type>" for client packets, and marks the checks add. */
Host.log = [];

function Socket(opts) {
  this._h = {};
  this._buf = "";
  this.opts = opts;
  this.open = false;
  this.closed = false;
  this.endedByClient = false;
  this.writes = 0;
}
Socket.prototype.on = function (ev, fn) {
  (this._h[ev] || (this._h[ev] = [])).push(fn);
  return this;
};
/** Asynchronous, like Espruino's emit; at most one argument here. */
Socket.prototype._emit = function (ev, a) {
  var s = this;
  Loop.post(function () {
    var l = s._h[ev];
    if (ev == "data" && typeof a != "string") Host.faults.push("data event with a non-string");
    if (l) for (var i = 0; i < l.length; i++) l[i].call(s, a);
  });
};
Socket.prototype.write = function (x) {
  if (typeof x != "string") {
    Host.faults.push("socket.write(" + Object.prototype.toString.call(x) + "): Espruino would send its text");
    x = String(x);
  }
  this.writes++;
  if (this.closed) return false;
  for (var i = 0; i < x.length; i++)
    if (x.charCodeAt(i) > 255) {
      Host.faults.push("socket.write: char > 255 at " + i);
      break;
    }
  Broker._in(this, x);
  this._emit("drain", this); // with the socket, as Espruino does
  return false;
};
Socket.prototype.end = function () {
  if (this.closed) return;
  this.closed = true;
  this.endedByClient = true;
  this._emit("close");
};
/** The far end hangs up: `end` then `close`. */
Socket.prototype.hangup = function () {
  if (this.closed) return;
  this.closed = true;
  this._emit("end");
  this._emit("close");
};
/** The network fails: `error` {code, message} then `close`. */
Socket.prototype.fail = function (code, message) {
  if (this.closed) return;
  this.closed = true;
  this._emit("error", { code: code, message: message });
  this._emit("close");
};

var Net = {
  /** When set, connect() throws it synchronously (as Linux builds do: "Unable to create socket"). */
  throwOnConnect: null,
  connect: function (opts, cb) {
    if (this.throwOnConnect) throw this.throwOnConnect;
    var s = new Socket(opts);
    Broker.sockets.push(s);
    Loop.post(function () {
      if (s.closed) return;
      s.open = true;
      if (cb) cb.call(s, s); // Espruino calls it with the socket as `this` and as its argument, as it does `drain`
    });
    return s;
  },
};
var Tls = {
  connect: function (opts, cb) {
    Host.faults.push("tls.connect used");
    return Net.connect(opts, cb);
  },
};

// ---- modules, the Espruino way ---------------------------------------------------------------
var Modules = {
  _src: {},
  _exp: {},
  addCached: function (id, src) {
    this._src[id] = src;
    delete this._exp[id];
  },
  removeCached: function (id) {
    delete this._src[id];
    delete this._exp[id];
  },
  getCached: function () {
    var o = [];
    for (var k in this._src) o.push(k);
    return o;
  },
};
G.require = function (id) {
  if (id == "net") return Net;
  if (id == "tls") return Tls;
  if (Modules._exp.hasOwnProperty(id)) return Modules._exp[id];
  if (!Modules._src.hasOwnProperty(id)) throw new Error('Module "' + id + '" not found');
  var m = { exports: {} }, src = Modules._src[id], hadE = "exports" in G, hadM = "module" in G, oe = G.exports, om = G.module;
  // Espruino runs module code in a scope holding `exports` and `module`; a function given to
  // addCached resolves them as free names, so they are globals while it runs.
  G.exports = m.exports;
  G.module = m;
  try {
    if (typeof src == "function") src();
    else (0, eval)(src);
  } finally {
    if (hadE) G.exports = oe;
    else delete G.exports;
    if (hadM) G.module = om;
    else delete G.module;
  }
  Modules._exp[id] = m.exports;
  return m.exports;
};
