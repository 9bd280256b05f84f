import type { SharedEvent } from './sharedEvent.js';

/*
 * What the chat core reports as it works, for the metrics (src/metrics implements both). Each is
 * one call at the point where the thing happens; everything else is read at scrape time.
 */

/** The room hub's fan-out. */
export interface FanoutMetrics {
  /** `event` was handed to `members` local members: called once per dispatch, never per member. */
  dispatched(event: SharedEvent, members: number): void;
}

/** The WebSocket transport. */
export interface TransportMetrics {
  /** A connection was closed for holding more unsent output than its budget (close 4008). */
  slowConsumerDropped(): void;
  /** A client was sent the reconnect notice (drain). */
  reconnectAsked(): void;
}
