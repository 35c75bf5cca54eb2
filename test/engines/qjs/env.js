// The "firmware" side of a simulated Espruino board, evaluated inside QuickJS before any user
// code: Modules/require, E.toString, timers and require("net") over the host bridge `__host`
// (bridge.mjs). The facts modelled are those of Espruino 2v29's `net` module (its reference,
// https://www.espruino.com/Reference#net, and libs/network/ in the Espruino source), as measured
// on its Linux build: sockets deliver and take Strings of one char per byte; socket.write() of
// anything else would put its text on the wire (recorded as a fault); write() returns false and
// `drain` follows; events come each in its own turn of the host loop; a remote close gives `end`
// then `close`; errors are {code, message}.
//
// Bytes cross the C boundary of quickjs-emscripten as ArrayBuffers, because its string calls
// stop at a NUL byte; the conversion to and from 8-bit strings happens here, on the "board",
// so the client only ever sees 8-bit strings.
(function (G) {
  var H = G.__host;
  G.__faults = [];

  G.console = {
    log: function () {
      H.print(Array.prototype.join.call(arguments, " "));
    },
  };
  G.console.warn = G.console.error = G.console.log;
  G.print = G.console.log;

  // ---- timers: host timers by id ----
  var T = {}, tn = 0;
  function add(fn, ms, rep) {
    var id = ++tn;
    T[id] = { f: fn, r: rep };
    H.timer(id, +ms || 0, rep ? 1 : 0);
    return id;
  }
  // Extra arguments are passed to fn, as every host's timers do.
  function bound(fn, args) {
    return function () {
      fn.apply(null, Array.prototype.slice.call(args, 2));
    };
  }
  G.setTimeout = function (fn, ms) {
    return add(bound(fn, arguments), ms, false);
  };
  G.setInterval = function (fn, ms) {
    return add(bound(fn, arguments), ms, true);
  };
  G.clearTimeout = G.clearInterval = function (id) {
    if (T[id]) {
      delete T[id];
      H.untimer(id);
    }
  };
  G.__fire = function (id) {
    var t = T[id];
    if (!t) return;
    if (!t.r) delete T[id];
    t.f();
  };
  G.__timers = function () {
    var n = 0;
    for (var k in T) n++;
    return n;
  };

  // ---- E ----
  function str8(u8) {
    var s = "", n = u8.length;
    for (var i = 0; i < n; i += 256) s += String.fromCharCode.apply(null, u8.subarray(i, Math.min(n, i + 256)));
    return s;
  }
  G.E = {
    toString: function (u8) {
      if (!(u8 instanceof Uint8Array)) G.__faults.push("E.toString got " + Object.prototype.toString.call(u8));
      return str8(u8);
    },
  };

  // ---- sockets ----
  var S = {}, sn = 0;
  function Socket(opts) {
    this._h = {};
    this.opts = opts;
    this.closed = false;
  }
  Socket.prototype.on = function (ev, fn) {
    (this._h[ev] || (this._h[ev] = [])).push(fn);
    return this;
  };
  Socket.prototype.emit = function (ev, a) {
    var l = this._h[ev];
    if (l) for (var i = 0; i < l.length; i++) l[i].call(this, a);
  };
  Socket.prototype.write = function (x) {
    if (typeof x != "string") {
      G.__faults.push("socket.write(" + Object.prototype.toString.call(x) + "): Espruino would send its text");
      x = String(x);
    }
    if (this.closed) return false;
    var u = new Uint8Array(x.length);
    for (var i = 0; i < x.length; i++) {
      var c = x.charCodeAt(i);
      if (c > 255) {
        G.__faults.push("socket.write: char > 255");
        c &= 255;
      }
      u[i] = c;
    }
    H.write(this._id, u.buffer);
    return false;
  };
  Socket.prototype.end = function () {
    if (this.closed) return;
    this.closed = true;
    H.end(this._id);
  };
  /** From the host: "connect", "data" (an ArrayBuffer), "drain", "end", "error" ({code, message}), "close". */
  G.__sock = function (id, ev, a) {
    var s = S[id];
    if (!s) return;
    if (ev == "connect") {
      var cb = s._cb;
      s._cb = null;
      if (cb) cb.call(s, s); // Espruino calls it with the socket as `this` and as its argument, as it does `drain`
      return;
    }
    if (ev == "data") a = str8(new Uint8Array(a));
    if (ev == "drain") a = s; // Espruino gives `drain` the socket itself
    if (ev == "close") {
      s.closed = true;
      delete S[id];
    }
    s.emit(ev, a);
  };
  var net = {
    connect: function (opts, cb) {
      if (typeof opts == "string") {
        var m = /^(?:\w+:\/\/)?([^:\/]+)(?::(\d+))?/.exec(opts);
        opts = { host: m[1], port: +(m[2] || 80) };
      }
      var s = new Socket(opts);
      s._id = ++sn;
      s._cb = cb;
      S[s._id] = s;
      H.connect(s._id, String(opts.host), +opts.port);
      return s;
    },
  };
  var tls = {
    connect: function () {
      throw new Error("Unable to create socket");
    },
  };

  // ---- modules, the Espruino way ----
  var M = { src: {}, exp: {} };
  G.Modules = {
    addCached: function (id, src) {
      M.src[id] = src;
      delete M.exp[id];
    },
    removeCached: function (id) {
      delete M.src[id];
      delete M.exp[id];
    },
    removeAllCached: function () {
      M.src = {};
      M.exp = {};
    },
  };
  G.require = function (id) {
    if (id == "net") return net;
    if (id == "tls") return tls;
    if (M.exp.hasOwnProperty(id)) return M.exp[id];
    if (!M.src.hasOwnProperty(id)) throw new Error('Module "' + id + '" not found');
    var m = { exports: {} }, src = M.src[id];
    // Espruino runs module code in a scope holding `exports` and `module`; a function given to
    // addCached resolves them as free names, so they are globals while it runs.
    G.exports = m.exports;
    G.module = m;
    try {
      if (typeof src == "function") src();
      else (0, eval)(src);
    } finally {
      delete G.exports;
      delete G.module;
    }
    M.exp[id] = m.exports;
    return m.exports;
  };
})(this);
