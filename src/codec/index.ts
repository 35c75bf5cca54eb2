// The codec: pure functions over caller-owned buffers, one module per packet family.
export { encodeConnect } from "./connect";
export type { ConnectFields } from "./connect";
export { encodePublish, publishSize, badId, encodeAck, encodeEmpty, publishIdOffset } from "./publish";
export { encodeSubscribe } from "./subscribe";
export { createDecoder, resetDecoder, feed, St } from "./decoder";
export type { Decoder } from "./decoder";
export { badName, badFilter, matches } from "./topic";
export { badUtf8, strBytes, writeStr, payloadBytes } from "./strings";
export { T, MAX_LENGTH, headerSize, writeHeader } from "./packet";
export { Err } from "../errors";
