// mqttiny-events: the rest of an event emitter, as MQTT.js users know it: removeListener (off),
// once, removeAllListeners. The core has on() alone.

/** The key the core keeps event `ev`'s listeners under (see on() in client.ts). */
function evKey(ev: string) {
  return ev.substr(0, 4);
}

export function events(P: any) {
  P.removeListener = P.off = function (ev: string, fn: any) {
    var m = this._ev, l = m[(ev = evKey(ev))] || [], i;
    // The core keeps a lone listener as itself.
    if (!l.push) l = m[ev] = [l];
    for (i = l.length - 1; i >= 0; i--)
      if (l[i] == fn || l[i]._fn == fn) {
        l.splice(i, 1);
        break;
      }
    return this;
  };
  P.once = function (ev: string, fn: any) {
    var c = this;
    function once(a?: any, b?: any, x?: any) {
      c.removeListener(ev, once);
      // Not with the client as `this` on Espruino (see _emit in client.ts).
      if (__ESPRUINO__) fn(a, b, x);
      else fn.call(c, a, b, x);
    }
    once._fn = fn;
    return c.on(ev, once);
  };
  P.removeAllListeners = function (ev?: string) {
    if (ev) delete this._ev[evKey(ev)];
    else this._ev = {};
    return this;
  };
}
