/**
 * Every reason the chat server closes a socket, in one place (the README's Limits table names
 * them too). The stock tRPC client fails its pending calls on any close and reconnects; its
 * subscriptions resume with `lastEventId`.
 */

/** A frame that is not JSON, or a request whose id cannot be read: its calls cannot be answered. */
export const CLOSE_INVALID_FRAME = 1007;
/** The first frame of a `?connectionParams=1` connection was not valid connection params. */
export const CLOSE_BAD_CONNECTION_PARAMS = 1008;
/** A frame larger than the transport's frame limit (`ws` refuses it before it is read). */
export const CLOSE_FRAME_TOO_LARGE = 1009;
/** The connection's token expired: reconnect with a refreshed one. */
export const CLOSE_SESSION_EXPIRED = 4001;
/** No valid session by the authentication deadline. */
export const CLOSE_NOT_AUTHENTICATED = 4002;
/** More output queued for the client than its budget: it is not reading. */
export const CLOSE_TOO_SLOW = 4008;
/** Requests kept coming a full burst past the connection's rate, refusals notwithstanding. */
export const CLOSE_TOO_MANY_REQUESTS = 4029;
/** The user already has the most connections allowed on this server. */
export const CLOSE_TOO_MANY_CONNECTIONS = 4030;
