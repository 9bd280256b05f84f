import type { SharedEvent } from './sharedEvent.js';

/**
 * What the room hub reports as it fans out, for the metrics (src/metrics implements it): one call
 * where the thing happens; everything else is read at scrape time.
 */
export interface FanoutMetrics {
  /** `event` was handed to `members` local members: called once per dispatch, never per member. */
  dispatched(event: SharedEvent, members: number): void;
}
