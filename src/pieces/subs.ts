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
  if (cb) c._emit(cb, null);
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
   * After CONNACK, in place of the core's resend of the first `n` pending requests. In a new
   * session (`sp` 0) every subscription is made again first, as one request nobody waits for (but
   * not a filter whose own SUBSCRIBE is still waiting), and a pending UNSUBSCRIBE has nothing to
   * undo (unless a SUBSCRIBE before it makes the filter again): it is dropped, and called back once
   * the requests are out, so what a callback does goes to the broker after them.
   */
  P._again = function (sp: number, n: number) {
    var c = this, r = c._reqs, u = c._subs || {}, f: string[] = [], qs: number[] = [], gone: any[] = [], k: any, q: any;
    if (!sp) {
      for (k in u)
        if (!asked(c, [k], r.length)) {
          f.push(k);
          qs.push(u[k]);
        }
      if (f.length) {
        r.unshift({ _f: f, _q: qs, _cb: null, _i: 0 });
        n++;
      }
      for (k = 0; k < n; k++)
        if (!(q = r[k])._q && !asked(c, q._f, k)) {
          r.splice(k--, 1);
          n--;
          gone.push(q);
        }
    }
    for (k = 0; k < n && c.connected; k++) c._req(r[k]);
    for (k = 0; k < gone.length; k++) done(c, gone[k]._cb);
  };
  P.unsubscribe = function (filters: any, cb?: any) {
    var c = this, r = c._reqs, u: any = {}, q = P.subscribe.call(c, filters, null, cb, u) && u._r, i = r.indexOf(q);
    // A clean session forgets subscriptions with the connection: nothing to tell the broker
    // (unless a SUBSCRIBE still waiting to go out would make the filter again).
    if (q && c._clean && !c.connected && !asked(c, q._f, i)) {
      r.splice(i, 1);
      done(c, cb);
    }
    return c;
  };
}
