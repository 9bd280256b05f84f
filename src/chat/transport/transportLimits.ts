import { LIMITS } from '../../contract/limits.js';

/** Every bound the chat transport enforces; the defaults are `TRANSPORT_DEFAULTS` in src/limits.ts. */
export interface TransportLimits {
  /** Most requests one frame may batch; a larger batch gets one error per request. */
  maxBatch: number;
  /** Most live subscriptions on one connection. */
  maxSubscriptions: number;
  /** Requests per second one connection may make, after a burst. */
  requestsPerSecond: number;
  requestBurst: number;
  /**
   * Output a connection may have queued (replies, snapshots, replays and live events alike).
   * Past it the client is not reading: it is closed with CLOSE_TOO_SLOW and may resume.
   */
  maxBufferedBytes: number;
  /** How long a closing handshake may take before the socket is cut (a client that never reads). */
  closeTimeoutMs: number;
  pingMs: number;
  pongWaitMs: number;
  /** A connection without a valid session this long after it opened is closed. */
  authTimeoutMs: number;
  /** Open connections per client address (authenticated or not); more are refused with HTTP 429. */
  maxConnectionsPerAddress: number;
  /** Authenticated connections per user on one chat server. */
  maxConnectionsPerUser: number;
}

/**
 * JSON escapes a control character or a lone surrogate as `\uXXXX`: six bytes for one UTF-16
 * unit, the most any unit can take on the wire (others are at most three bytes of UTF-8).
 */
const MAX_BYTES_PER_UTF16_UNIT = 6;
/**
 * Everything in a request besides the message body: id, method, path, room id and field names.
 * A `chat.send` envelope with a 64-character room id is about 200 bytes.
 */
const REQUEST_ENVELOPE_BYTES = 512;

/**
 * The largest frame the transport reads: `maxBatch` requests carrying the largest valid input
 * (a message body of the most characters, each escaped to the most bytes), with the commas and
 * brackets of a batch. Larger frames close the socket (1009) before they are read.
 */
export function maxFrameBytes(maxBatch: number): number {
  const largestRequest = LIMITS.messageMax * MAX_BYTES_PER_UTF16_UNIT + REQUEST_ENVELOPE_BYTES;
  return maxBatch * (largestRequest + 1) + 1;
}
