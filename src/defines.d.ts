// Build-time feature switches. The build replaces each with a literal per target (see build/),
// so the minifier folds away code a board does not use. Tests define them per vitest project.

/** Espruino target: strings are 8-bit byte strings and sockets deliver and take strings. */
declare const __ESPRUINO__: boolean;
/** QoS 1 support: the outbox, packet ids, resend with DUP. False for espruino-lite. */
declare const __QOS1__: boolean;
/**
 * QoS 2 (exactly once): PUBREC, PUBREL, PUBCOMP both ways, and the held packet ids of messages
 * received. True for node, espruino-esp32 and espruino-stm32.
 */
declare const __QOS2__: boolean;
/** TLS support through the platform's tls module. */
declare const __TLS__: boolean;
