import type { ChatEvent } from '../contract/events.js';
import type { SharedEvent } from './sharedEvent.js';

/** Where a subscription's events go; a transport implements it to skip per-member encoding. */
export interface FeedSink {
  /** An event every member of the room receives identically. */
  shared(event: SharedEvent): void;
  /** An event only this subscriber receives (its snapshot, its replay). */
  own(id: string, event: ChatEvent): void;
}

/**
 * How a feed learns that its subscriber is gone: an `AbortSignal`, or anything lighter that
 * behaves alike (a transport holding thousands of subscriptions keeps one small object each).
 */
export interface StopSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
}

/** A subscription result that can stream straight into a transport's sink. */
export interface Pipeable {
  /** Starts streaming; resolves once caught up, and stops when `signal` aborts. */
  pipe(sink: FeedSink, signal: StopSignal): Promise<void>;
}

export function isPipeable(value: unknown): value is Pipeable {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Partial<Pipeable>).pipe === 'function'
  );
}
