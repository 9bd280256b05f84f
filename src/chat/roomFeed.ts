import { type TrackedEnvelope, tracked } from '@trpc/server';
import type { ChatEvent } from '../contract/events.js';
import { LIMITS } from '../contract/limits.js';
import type { PublicUser } from '../contract/models.js';
import type { Store } from '../storage/store.js';
import { AsyncQueue } from './asyncQueue.js';
import type { FeedSink, Pipeable } from './feedSink.js';
import type { RoomHub, RoomMember } from './roomHub.js';
import type { SharedEvent } from './sharedEvent.js';

/** A resuming client further behind than this gets a fresh snapshot instead of a replay. */
export const REPLAY_LIMIT = 500;

export interface FeedDeps {
  store: Store;
  hub: RoomHub;
}

export interface FeedRequest {
  roomId: string;
  viewer: PublicUser;
  /** The last sequence number the client holds, or null for a first subscription. */
  lastEventId: number | null;
}

/**
 * One subscriber's view of a room: catch up (snapshot or replay), then follow live. It joins the
 * room before reading the store and drops what it already sent, so events that land while it is
 * catching up are neither lost nor doubled.
 */
export class RoomFeed implements Pipeable, AsyncIterable<TrackedEnvelope<ChatEvent>> {
  constructor(
    private readonly deps: FeedDeps,
    private readonly request: FeedRequest,
  ) {}

  async pipe(sink: FeedSink, signal: AbortSignal): Promise<void> {
    const { roomId, viewer } = this.request;
    let lastSent = 0;
    let pending: SharedEvent[] | null = [];

    const deliver = (event: SharedEvent) => {
      if (event.logged) {
        if (event.seq <= lastSent) return;
        lastSent = event.seq;
        sink.shared(event);
      } else if (event.seq < lastSent) {
        // The hub has not seen our latest entry yet: never let the client's id go backwards.
        sink.own(String(lastSent), event.event);
      } else {
        sink.shared(event);
      }
    };
    const member: RoomMember = {
      userId: viewer.id,
      username: viewer.username,
      receive: (event) => (pending ? pending.push(event) : deliver(event)),
    };

    const leave = await this.deps.hub.join(roomId, member);
    if (signal.aborted) return leave();
    signal.addEventListener('abort', leave, { once: true });
    try {
      lastSent = await this.catchUp(sink);
      // Without presence now (unreachable), the hub announces it once it has it.
      const online = await this.deps.hub.whoIsOnline(roomId);
      if (online) sink.own(String(lastSent), { type: 'presence', ...online });
      const typing = this.deps.hub.typingIn(roomId);
      if (typing.length > 0) sink.own(String(lastSent), { type: 'typing', users: typing });
      const caughtUp: SharedEvent[] = pending;
      pending = null;
      for (const event of caughtUp) deliver(event);
    } catch (error) {
      leave();
      throw error;
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<TrackedEnvelope<ChatEvent>, undefined> {
    const queue = new AsyncQueue<TrackedEnvelope<ChatEvent>>();
    const stop = new AbortController();
    this.pipe(
      {
        shared: (event) => queue.push(tracked(event.id, event.event)),
        own: (id, event) => queue.push(tracked(id, event)),
      },
      stop.signal,
    ).catch((error: unknown) => queue.fail(error));
    return {
      next: () => queue.next(),
      return: () => {
        stop.abort();
        return queue.return();
      },
    };
  }

  /** Sends what the client is missing; returns the sequence number it now holds. */
  private async catchUp(sink: FeedSink): Promise<number> {
    const { roomId, viewer, lastEventId } = this.request;
    const { messages } = this.deps.store;
    if (lastEventId !== null && lastEventId <= (await messages.head(roomId))) {
      const entries = await messages.eventsAfter(roomId, lastEventId, REPLAY_LIMIT + 1);
      if (entries.length <= REPLAY_LIMIT) {
        for (const entry of entries) sink.own(String(entry.seq), entry.event);
        return entries.at(-1)?.seq ?? lastEventId;
      }
    }
    const snapshot = await messages.snapshot(roomId, LIMITS.snapshotSize, viewer.id);
    sink.own(String(snapshot.head), {
      type: 'snapshot',
      messages: snapshot.messages,
      hasMore: snapshot.hasMore,
      pinned: snapshot.pinned,
    });
    return snapshot.head;
  }
}
