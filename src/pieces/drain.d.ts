// Typings of mqttiny-drain (src/pieces/drain.ts), shipped beside each Espruino bundle as
// dist/<target>/mqttiny-drain.d.ts.

/**
 * mqttiny-drain: load it after "mqttiny" (`require("mqttiny-drain")`) and `client.end()` waits
 * until the outbox is sent and acknowledged (at most `connectTimeout`) before its DISCONNECT;
 * `end(true)` still ends at once. Without it end() disconnects at once and fails what is queued
 * with 108 (ErrorCode.Ended). It adds no API: the module exports nothing.
 */
export {};
