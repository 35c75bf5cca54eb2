// Typings of mqttiny-check (src/pieces/check.ts), shipped beside each Espruino bundle as
// dist/<target>/mqttiny-check.d.ts.

/**
 * mqttiny-check: load it after "mqttiny" (`require("mqttiny-check")`) for the checks of what the
 * app passes that a board can do without. With it, connect() throws 106 (ErrorCode.Options) for
 * option values that cannot work, and ill-formed UTF-8 or U+0000 in topics, filters and CONNECT
 * strings is refused with 101, 102 or 105, in the topics of incoming messages with 205. Without it
 * the core still refuses what would break the session (empty topics, misplaced wildcards, sizes,
 * QoS). It adds no API: the module exports nothing.
 */
export {};
