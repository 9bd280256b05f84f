/**
 * What the WebSocket transport reports as it works, for the metrics (src/metrics implements it):
 * one call where the thing happens; everything else is read at scrape time.
 */
export interface TransportMetrics {
  /** A connection was closed for holding more unsent output than its budget (close 4008). */
  slowConsumerDropped(): void;
  /** A client was sent the reconnect notice (drain). */
  reconnectAsked(): void;
}
