import { type TrackedEnvelope, tracked } from '@trpc/server';
import type { ChatEvent } from '../contract/events.js';
import { LIMITS } from '../contract/limits.js';
import type { PublicUser } from '../contract/models.js';
import { FANOUT_LIMITS } from '../limits.js';
import type { Store } from '../storage/store.js';
import { AsyncQueue } from './asyncQueue.js';
import type { FeedSink, Pipeable, StopSignal } from './feedSink.js';
import type { RoomHub, RoomMember } from './roomHub.js';
import type { SharedEvent } from './sharedEvent.js';

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

  async pipe(sink: FeedSink, signal: StopSignal): Promise<void> {
    const { roomId, viewer } = this.request;
    const member = new FeedMember(viewer, sink);
    const leave = await this.deps.hub.join(roomId, member);
    if (signal.aborted) return leave();
    signal.addEventListener('abort', leave, { once: true });
    try {
      const lastSent = await this.catchUp(sink);
      // Without presence now (unreachable), the hub announces it once it has it.
      const online = await this.deps.hub.whoIsOnline(roomId);
      if (online) sink.own(String(lastSent), { type: 'presence', ...online });
      const typing = this.deps.hub.typingIn(roomId);
      if (typing.length > 0) sink.own(String(lastSent), { type: 'typing', users: typing });
      member.caughtUp(lastSent);
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
      const entries = await messages.eventsAfter(roomId, lastEventId, FANOUT_LIMITS.replayMax + 1);
      if (entries.length <= FANOUT_LIMITS.replayMax) {
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

/**
 * A subscriber as a member of its room: it holds live events back while the feed catches up,
 * then passes each on once and in order. One object per subscriber, its methods shared.
 */
class FeedMember implements RoomMember {
  private catchingUp = true;
  /** Live events that arrived while catching up. */
  private held: SharedEvent[] | null = null;
  /** The last log entry sent: the client's resume point. */
  private lastSent = 0;

  readonly userId: string;
  readonly username: string;

  constructor(
    viewer: PublicUser,
    private readonly sink: FeedSink,
  ) {
    this.userId = viewer.id;
    this.username = viewer.username;
  }

  receive(event: SharedEvent): void {
    if (!this.catchingUp) this.deliver(event);
    else if (this.held) this.held.push(event);
    else this.held = [event];
  }

  /** The client now holds everything up to `lastSent`: what was held back follows. */
  caughtUp(lastSent: number): void {
    this.lastSent = lastSent;
    this.catchingUp = false;
    const held = this.held ?? [];
    this.held = null;
    for (const event of held) this.deliver(event);
  }

  private deliver(event: SharedEvent): void {
    if (event.logged) {
      if (event.seq <= this.lastSent) return;
      this.lastSent = event.seq;
      this.sink.shared(event);
    } else if (event.seq < this.lastSent) {
      // The hub has not seen our latest entry yet: never let the client's id go backwards.
      this.sink.own(String(this.lastSent), event.event);
    } else {
      this.sink.shared(event);
    }
  }
}
