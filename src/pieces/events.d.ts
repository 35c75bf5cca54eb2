// Typings of mqttiny-events (src/pieces/events.ts), shipped beside each Espruino bundle as
// dist/<target>/mqttiny-events.d.ts.
export {};

/**
 * mqttiny-events: load it after "mqttiny" (`require("mqttiny-events")`) for the rest of an event
 * emitter as MQTT.js users know it: `removeListener` (alias `off`), `once` and
 * `removeAllListeners` on every client. The core has `on` alone. The module exports nothing.
 */
declare module "./mqttiny" {
  interface Client {
    /** Removes `fn` (or a once() wrapper of it) from `event`'s listeners. */
    removeListener(event: string, fn: (...args: any[]) => void): this;
    /** The same as removeListener. */
    off(event: string, fn: (...args: any[]) => void): this;
    /** Like on(), for the next `event` only. */
    once(event: "connect", fn: (connack: Connack) => void): this;
    once(event: "message", fn: MessageHandler): this;
    once(event: "error", fn: (err: MqttError) => void): this;
    once(event: "close" | "offline" | "reconnect" | "end", fn: () => void): this;
    /** Removes every listener of `event`, or of every event when none is given. */
    removeAllListeners(event?: string): this;
  }
}
