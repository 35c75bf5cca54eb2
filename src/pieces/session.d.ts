// Typings of mqttiny-session (src/pieces/session.ts), shipped beside each Espruino bundle as
// dist/<target>/mqttiny-session.d.ts.
export {};

/**
 * mqttiny-session: load it after "mqttiny" (`require("mqttiny-session")`) for a session that
 * survives a reboot (deep sleep, a power cut). `client.saveSession()` writes the unfinished
 * publishes with their ids, the held QoS 2 ids and the subscriptions to a small file
 * (Storage on Espruino, a file on Node); `connect(url, { clientId, clean: false, session: name })`
 * reads it back. A file that does not read back whole, or is another client's, is error 216 and a
 * start without it. The module exports nothing.
 */
declare module "./mqttiny" {
  interface Client {
    /**
     * Writes the session to `file` (default: the file of the `session` option): a Storage file on
     * Espruino, a path on Node. True when written; false when it could not be (the flash full, no
     * name).
     */
    saveSession(file?: string): boolean;
  }
  interface ConnectOptions {
    /** The file a saved session is read from (the session piece); none there: a first start. */
    session?: string;
  }
}
