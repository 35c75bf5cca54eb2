// Typings of mqttiny-subs (src/pieces/subs.ts), shipped beside each Espruino bundle as
// dist/<target>/mqttiny-subs.d.ts.
export {};

/**
 * mqttiny-subs: load it after "mqttiny" (`require("mqttiny-subs")`) and every client remembers
 * its subscriptions, making them again after a reconnect whose broker has none of them (a new
 * session, as every one is with `clean: true`), and gains `unsubscribe()`. Without it, subscribe
 * in the `connect` listener, as with Espruino's MQTT module. The module exports nothing.
 */
declare module "./mqttiny" {
  interface Client {
    /** Unsubscribes from one filter or several; `cb(err)` on UNSUBACK. */
    unsubscribe(filters: string | string[], cb?: Callback): this;
  }
}
