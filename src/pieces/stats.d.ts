// Typings of mqttiny-stats (src/pieces/stats.ts), shipped beside each Espruino bundle as
// dist/<target>/mqttiny-stats.d.ts.
export {};

/**
 * mqttiny-stats: load it after "mqttiny" (`require("mqttiny-stats")`) for `client.stats`,
 * counters of what each client did: publishes sent, resent (DUP) and acknowledged, messages
 * received and skipped (oversize), packets ignored (acks for nothing, unasked PINGRESP),
 * reconnects and errors (events and failed callbacks). The module exports nothing.
 */
declare module "./mqttiny" {
  interface Client {
    readonly stats: Stats;
  }
}
