// mqttiny-session: a session that outlives a reboot. Waking from deep sleep is a reboot, and so is
// a power cut: without this piece, what the outbox held and the packet ids in flight are gone.
// saveSession() writes what a resumed session needs to a small file (Storage on Espruino, a file
// on Node); connect(url, { clientId, clean: false, session: name }) reads it back, and the client
// goes on as after a reconnect: unfinished QoS 1 and QoS 2 publishes resent with DUP=1 and their
// ids when the broker has the session, renumbered when it does not.
//
// The file is JSON (Espruino's JSON carries 8-bit strings whole, and parses a Storage file where it
// lies in flash): ["MQS1", client id, next packet id, held QoS 2 ids, the outbox's unfinished
// entries as [first byte, state, id, bytes counted, topic, payload], the subscriptions (the subs
// piece's, filter: QoS), a checksum of all before it]. One that does not parse, fails its
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
    var c = init.call(this, o, p), f = (c._sf = o.session), q: any[] = [], t: any, x: any, k: any, e: any;
    c._cid = o.clientId;
    if (f) {
      try {
        t = __ESPRUINO__ ? p._g._req("Storage").read(f) : require("fs").readFileSync(f, "utf8");
        x = JSON.parse(t);
      } catch (y) {
        // (No such file on Node, where Espruino's read() gives undefined; or not JSON.)
      }
      // No file: the first start.
      if (t != null)
        if (x && x[0] == FORMAT && x[1] === o.clientId && x[6] === sum(t, t.lastIndexOf(","))) {
          // The ids the restored entries hold are skipped by new ones (see the core's _req).
          c._ids = {};
          for (k = 0; (e = x[4][k]); k++) {
            q.push({ _h: e[0], _s: e[1], _i: e[2], _n: e[3], _t: e[4], _p: e[5] });
            c._ids[e[2]] = 1;
            c._qn += e[3];
          }
          c._q = q;
          c._on = q.length;
          c._pid = x[2];
          if (c._held) c._held = x[3];
          if (c._sub) for (k in x[5]) c._sub(k, x[5][k]);
        }
        // Not whole, or another client's: said on the next turn, when the app's `error` listener is there.
        else p._g._setTimeout(c._fail.bind(c, 0, Err.Session), 0);
    }
    return c;
  };
  /**
   * Writes the session to `f` (default: the `session` option, else "mqttiny.ses"): a Storage file
   * on Espruino, a file on Node. True when written.
   */
  P.saveSession = function (f?: string) {
    var c = this, q: any[] = [], k: any, e: any, t: any;
    for (k = __ESPRUINO__ ? 0 : c._qh; (e = c._q[k]); k++)
      // (On the wire now: written in an earlier connection by the time it is read back.)
      if (!(e._s & F.Done)) q.push([e._h, e._s & F.Sent ? F.Was | (e._s & F.Rel) : e._s, e._i, e._n, e._t, e._p]);
    t = JSON.stringify([FORMAT, c._cid, c._pid, c._held || [], q, c._subs || {}]).slice(0, -1);
    t += "," + sum(t, t.length) + "]";
    f = f || c._sf || "mqttiny.ses";
    // (Espruino's Storage.write() says false when the flash has no room.)
    if (__ESPRUINO__) return !!c._plat._g._req("Storage").write(f, t);
    try {
      require("fs").writeFileSync(f, t, "utf8");
      return true;
    } catch (x) {
      return false;
    }
  };
}

declare var require: (m: string) => any;
