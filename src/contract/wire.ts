/**
 * The chat socket's batched wire mode, asked for as a WebSocket subprotocol. A client that asks
 * gets the same tRPC messages, but everything the server has for it in one event-loop turn comes
 * as one text frame of newline-separated messages (JSON never holds a raw newline). A client that
 * does not ask (the stock `@trpc/client`) gets exactly one message per frame.
 */
export const BATCH_PROTOCOL = 'chathub.batch.v1';

/** A batched frame carries at most this many bytes of messages (a larger message goes alone). */
export const MAX_BATCH_FRAME_BYTES = 64 * 1024;
