// mqttiny-subs: the client remembers its subscriptions and makes them again when the broker has
// none of them (a new session: every reconnect with clean: true), and unsubscribe(). Without it a
// board app subscribes in its `connect` listener, as with Espruino's MQTT module, and a resumed
// session (clean: false) keeps its subscriptions at the broker anyway.

/** Whether one of the first `n` pending requests subscribes to one of the filters `f`. */
function asked(c: any, f: string[], n: number) {
  for (var i = 0, j; i < n; i++) for (j = 0; j < f.length; j++) if (c._reqs[i]._q && c._reqs[i]._f.indexOf(f[j]) >= 0) return true;
  return false;
}

/** A request finished without a packet: its callback, with success. */
function done(c: any, cb: any) {
  if (cb) c._try(cb, null);
}

export function subs(P: any) {
  var sub = P._sub;
  /**
   * Holds a subscription; `q` < 0 forgets it. Subscribing again replaces it (and moves it last),
   * as the broker does [MQTT-3.8.4-3].
   */
  P._sub = function (f: string, q: number, o: any) {
    var c = this, u = (c._subs = c._subs || {});
    delete u[f];
    if (q >= 0) u[f] = q;
    if (sub) sub.call(c, f, q, o);
  };
  /**
   * After the CONNACK of a new session (`sp` 0), before the first `n` pending requests are sent
   * again: every subscription is made again, as one request nobody waits for (but not a filter
   * whose own SUBSCRIBE is still waiting), and a pending UNSUBSCRIBE has nothing to undo (unless a
   * SUBSCRIBE before it makes the filter again). Returns how many requests to send.
   */
  P._again = function (sp: number, n: number) {
    var c = this, r = c._reqs, u = c._subs || {}, f: string[] = [], qs: number[] = [], k: any, q: any;
    if (!sp) {
      for (k in u)
        if (!asked(c, [k], r.length)) {
          f.push(k);
          qs.push(u[k]);
        }
      if (f.length) {
        r.unshift({ _f: f, _q: qs, _cb: null, _id: 0 });
        n++;
      }
      for (k = 0; k < n; k++)
        if (!(q = r[k])._q && !asked(c, q._f, k)) {
          r.splice(k--, 1);
          n--;
          done(c, q._cb);
        }
    }
    return n;
  };
  P.unsubscribe = function (filters: any, cb?: any) {
    var c = this, r = c._reqs, n = r.length;
    c._request(filters, null, cb, true);
    // A clean session forgets subscriptions with the connection: nothing to tell the broker
    // (unless a SUBSCRIBE still waiting to go out would make the filter again).
    if (r.length > n && c._opts.clean && !c.connected && !asked(c, r[n]._f, n)) done(c, r.pop()._cb);
    return c;
  };
}
