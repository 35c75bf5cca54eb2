// mqttiny-handlers: `subscribe(filter, { handler })`, a function per subscription that gets the
// messages matching its filter, besides the `message` event. Handlers run in the order their
// subscriptions were made, after the `message` listeners, before the PUBACK.
import { matches } from "../codec/topic";

export function handlers(P: any) {
  var sub = P._sub, forget = P._forget, emit = P._emit;
  P._sub = function (f: string, q: number, o: any) {
    sub.call(this, f, q);
    if (o && o.handler) (this._hs = this._hs || {})[f] = o.handler;
  };
  P._forget = function (f: string) {
    forget.call(this, f);
    if (this._hs) delete this._hs[f];
  };
  P._emit = function (ev: string, topic: any, payload?: any, pk?: any) {
    var c = this, h = c._hs, f;
    emit.call(c, ev, topic, payload, pk);
    if (ev == "message") for (f in h) if (h[f] && matches(f, topic)) c._try(h[f], topic, payload, pk);
  };
}
