import type { ChatEvent } from '../contract/events.js';
import type { SharedEvent } from './sharedEvent.js';

/** Where a subscription's events go; a transport implements it to skip per-member encoding. */
export interface FeedSink {
  /** An event every member of the room receives identically. */
  shared(event: SharedEvent): void;
  /** An event only this subscriber receives (its snapshot, its replay). */
  own(id: string, event: ChatEvent): void;
}

/** A subscription result that can stream straight into a transport's sink. */
export interface Pipeable {
  /** Starts streaming; resolves once caught up, and stops when `signal` aborts. */
  pipe(sink: FeedSink, signal: AbortSignal): Promise<void>;
}

export function isPipeable(value: unknown): value is Pipeable {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Partial<Pipeable>).pipe === 'function'
  );
}
