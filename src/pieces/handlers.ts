// mqttiny-handlers: `subscribe(filter, { handler })`, a function per subscription that gets the
// messages matching its filter, besides the `message` event. Handlers run in the order their
// subscriptions were made, after the `message` listeners, before the PUBACK.
import { matches } from "../codec/topic";
import { Ev } from "../client";

export function handlers(P: any) {
  var sub = P._sub, emit = P._emit;
  // A subscription made again takes its new handler, or none; a forgotten one (q < 0) none.
  P._sub = function (f: string, q: number, o: any) {
    if (sub) sub.call(this, f, q);
    if (this._hs) delete this._hs[f];
    if (q >= 0 && o && o.handler) (this._hs = this._hs || {})[f] = o.handler;
  };
  P._emit = function (ev: string, topic: any, payload?: any, pk?: any) {
    var c = this, h = c._hs, f;
    emit.call(c, ev, topic, payload, pk);
    if (ev === Ev.Message) for (f in h) if (h[f] && matches(f, topic)) c._emit(h[f], topic, payload, pk);
  };
}
