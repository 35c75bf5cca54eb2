// Typings of mqttiny-handlers (src/pieces/handlers.ts), shipped beside each Espruino bundle as
// dist/<target>/mqttiny-handlers.d.ts.
export {};

/**
 * mqttiny-handlers: load it after "mqttiny" (`require("mqttiny-handlers")`) and
 * `subscribe(filter, { handler })` calls `handler` for the messages matching that filter, besides
 * the `message` event: handlers run in the order their subscriptions were made, after the
 * `message` listeners, before the PUBACK; unsubscribe() drops them. Without it the option is
 * ignored. The module exports nothing.
 */
declare module "./mqttiny" {
  interface SubscribeOptions {
    /** Called for messages matching these filters, besides the `message` event. */
    handler?: MessageHandler;
  }
}
