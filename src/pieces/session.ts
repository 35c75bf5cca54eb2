// mqttiny-session: a session that outlives a reboot. Waking from deep sleep is a reboot, and so is
// a power cut: without this piece, what the outbox held and the packet ids in flight are gone.
// saveSession() writes what a resumed session needs to a small file (Storage on Espruino, a file
// on Node); connect(url, { clientId, clean: false, session: name }) reads it back, and the client
// goes on as after a reconnect: unfinished QoS 1 and QoS 2 publishes resent with DUP=1 and their
// ids when the broker has the session, renumbered when it does not.
//
// The file is JSON (Espruino's JSON carries 8-bit strings whole, and parses a Storage file where it
// lies in flash): ["MQS1", client id, held QoS 2 ids, the outbox's unfinished entries as [first
// byte, state, id, bytes counted, topic, payload], the subscriptions (the subs piece's, filter:
// QoS), a checksum of all before it]. One that does not parse, fails its
// checksum or names another client id is error 216, and the client starts without it.
import { Err } from "../errors";
import { F } from "../client";

/** The format's name and version, the file's first field. */
var FORMAT = "MQS1";

/** A 16-bit checksum of `t` up to `n`: a byte changed or two swapped fail it. */
function sum(t: string, n: number): number {
  for (var h = 0, i = 0; i < n; i++) h = (h * 31 + t.charCodeAt(i)) & 65535;
  return h;
}

export function session(P: any) {
  var init = P._init;
  P._init = function (o: any, p: any) {
    var c = init.call(this, o, p), f = (c._sf = o.session), q: any[] = [], n = 0, t: any, x: any, k: any, e: any;
    c._cid = o.clientId;
    if (f) {
      // All in one try: a file that is not what it should be (damaged past its checksum, or of
      // other types) is said as 216, never thrown out of connect(). What it holds is taken only
      // once all of it was read.
      try {
        t = __ESPRUINO__ ? p._g._req("Storage").read(f) : require("fs").readFileSync(f, "utf8");
        x = JSON.parse(t);
        if (x[0] != FORMAT || x[1] != c._cid || x[5] != sum(t, t.lastIndexOf(","))) x = 0;
        else {
          // (+ "": a topic or payload is a string, whatever the file says: nothing throws later, in a callback.)
          for (k = 0; (e = x[3][k]); k++) {
            q.push({ _h: e[0], _s: e[1], _i: e[2], _n: e[3], _t: e[4] + "", _p: e[5] + "" });
            n += e[3];
          }
          if (c._held) c._held = x[2].slice();
          c._q = q;
          c._qn = n;
          c._on = k;
          // The next id comes after a scan of the ids the outbox holds (see the core's _req).
          c._pid = 65535;
          if (c._sub) for (k in x[4]) c._sub(k, x[4][k]);
        }
      } catch (y) {
        // (No such file on Node, where Espruino's read() gives undefined; or not the file it should be.)
        x = 0;
      }
      // No file: the first start. Not whole, or another client's: said on the next turn, when the
      // app's `error` listener is there.
      if (t != null && !x) p._g._setTimeout(c._fail.bind(c, 0, Err.Session), 0);
    }
    return c;
  };
  /**
   * Writes the session to `f` (default: the file of the `session` option): a Storage file on
   * Espruino, a file on Node. True when written; false when it could not be (a full flash, no name).
   */
  P.saveSession = function (f?: string) {
    var c = this, q: any[] = [], k: any, e: any, t: any;
    for (k = __ESPRUINO__ ? 0 : c._qh; (e = c._q[k]); k++)
      // (On the wire now: written in an earlier connection by the time it is read back.)
      // (Sent + 3 is Was; Sent | Rel + 3, Was | Rel.)
      if (!(e._s & F.Done)) q.push([e._h, e._s + 3 * (e._s & F.Sent), e._i, e._n, e._t, e._p]);
    t = JSON.stringify([FORMAT, c._cid, c._held || [], q, c._subs || {}]).slice(0, -1);
    t += "," + sum(t, t.length) + "]";
    try {
      // Espruino's Storage.write() throws when the flash has no room. On Node, written beside and
      // renamed: a crash half way leaves the last file whole. (No name: nowhere to write it.)
      if (__ESPRUINO__) return !!(f = f || c._sf) && c._plat._g._req("Storage").write(f, t);
      if (!(f = f || c._sf)) throw 0;
      require("fs").writeFileSync(f + ".tmp", t, "utf8");
      require("fs").renameSync(f + ".tmp", f);
      return true;
    } catch (x) {
      return false;
    }
  };
}

declare var require: (m: string) => any;
