import type { EventBus, RoomBroadcast, RoomSignal } from '../bus/eventBus.js';
import { LIMITS } from '../contract/limits.js';
import type { PublicUser } from '../contract/models.js';
import { FANOUT_LIMITS, PRESENCE_TIMING } from '../limits.js';
import type { Presence, PresenceChange, RoomUsers } from '../presence/presence.js';
import type { LoggedEntry, MessageRepository } from '../storage/store.js';
import type { FanoutMetrics } from './fanoutMetrics.js';
import { SharedEvent } from './sharedEvent.js';
import { TypingRoster } from './typingRoster.js';

export interface RoomMember {
  readonly userId: string;
  /** How the room's list of who is online names them. */
  readonly username?: string;
  receive(event: SharedEvent): void;
}

type LoggedBroadcast = Extract<RoomBroadcast, { kind: 'logged' }>;

interface ChannelState {
  readonly roomId: string;
  readonly members: Set<RoomMember>;
  /**
   * The last log entry handed to members; they get entries strictly in sequence order. Null until
   * the channel has read the room's head from the store.
   */
  delivered: number | null;
  /** Entries that arrived ahead of a missing one (several chat servers publish into a room). */
  readonly early: Map<number, LoggedBroadcast>;
  /** Pending or under way: the log is being asked for the entries still missing. */
  gapTimer: NodeJS.Timeout | 'reading' | null;
  readonly typing: TypingRoster;
  /** A presence change or count failed: members may hold a wrong count until it is announced. */
  presenceStale: boolean;
  /** The room's who-is-online list as last read for a joiner, and when (see `readOnline`). */
  onlineRead: { at: number; users: Promise<RoomUsers> } | null;
}

interface Channel extends ChannelState {
  /** Resolves once subscribed and positioned; yields the bus unsubscribe function. */
  readonly ready: Promise<() => Promise<void>>;
}

export interface RoomHubOptions {
  bus: EventBus;
  presence: Presence;
  eventLog: Pick<MessageRepository, 'head' | 'eventsAfter'>;
  metrics?: FanoutMetrics;
  onError(error: unknown): void;
  /**
   * Presence could not be changed or counted (its store is unreachable). Not a failure of the
   * room: the presence adapter reconciles by itself and the hub re-announces the count later.
   */
  onPresenceError(error: unknown): void;
  /** How long an out-of-order entry waits for the missing ones before they are read from the log. */
  gapWaitMs?: number;
  /**
   * How soon a count that could not be changed or announced (presence or the bus was
   * unreachable) is announced again. 0 turns it off.
   */
  presenceRetryMs?: number;
  /** How long a typing signal shows. Default `LIMITS.typingTtlMs`. */
  typingTtlMs?: number;
}

const {
  presenceThrottleMs: PRESENCE_THROTTLE_MS,
  presenceFramesPerSecond: PRESENCE_FRAMES_PER_SECOND,
  gapWaitMs: DEFAULT_GAP_WAIT_MS,
  gapRetryMs: GAP_RETRY_MS,
  resyncPage: RESYNC_PAGE,
} = FANOUT_LIMITS;

/**
 * The chat server's local fan-out: which members are in which room on this process. It holds
 * one bus subscription per room with local members and hands each event to every member, log
 * entries strictly in sequence order: publishes from several servers can cross on the way, so
 * an entry that arrives early waits briefly and any still missing are read back from the log.
 */
export class RoomHub {
  private readonly channels = new Map<string, Channel>();
  private readonly presenceTimers = new Map<string, NodeJS.Timeout>();
  /** Presence changes under way, so that close() waits for them. */
  private readonly presenceChanges = new Set<Promise<void>>();
  private readonly gapWaitMs: number;
  private readonly presenceRetry: NodeJS.Timeout | null;
  private readonly stopWatchingDrift: () => void;

  constructor(private readonly options: RoomHubOptions) {
    this.gapWaitMs = options.gapWaitMs ?? DEFAULT_GAP_WAIT_MS;
    const retryMs = options.presenceRetryMs ?? PRESENCE_TIMING.retryMs;
    this.presenceRetry =
      retryMs > 0 ? setInterval(() => this.retryPresence(), retryMs).unref() : null;
    // Counts that changed with no join or leave (expiry, a restored member) are announced by a
    // server that saw the change, rather than every server re-reading every room's count.
    this.stopWatchingDrift = options.presence.watchDrift((roomId) => {
      if (this.channels.has(roomId)) this.announcePresence(roomId);
    });
  }

  /**
   * Adds a member once the room's events reach this server (rejects when they cannot); the
   * returned function removes it again (idempotent, never fails). Presence follows along, but a
   * presence outage fails neither: see `onPresenceError`.
   */
  async join(roomId: string, member: RoomMember): Promise<() => void> {
    const channel = this.channels.get(roomId) ?? this.openChannel(roomId);
    channel.members.add(member);
    try {
      await channel.ready;
    } catch (error) {
      this.removeMember(channel, member);
      throw error;
    }
    await this.changePresence(channel, () =>
      this.options.presence.join(roomId, member.userId, member.username),
    );
    let joined = true;
    return () => {
      if (!joined) return;
      joined = false;
      this.removeMember(channel, member);
      const leaving = this.changePresence(channel, () =>
        this.options.presence.leave(roomId, member.userId),
      ).finally(() => this.presenceChanges.delete(leaving));
      this.presenceChanges.add(leaving);
    };
  }

  /** Who is typing in the room now, for a member who has just caught up. */
  typingIn(roomId: string): PublicUser[] {
    return this.channels.get(roomId)?.typing.users() ?? [];
  }

  /**
   * Who is online in the room (how many, and the first names), or null when presence cannot say
   * right now (announced later).
   */
  async whoIsOnline(roomId: string): Promise<RoomUsers | null> {
    try {
      return await this.readOnline(roomId);
    } catch (error) {
      this.presenceFailed(roomId, error);
      return null;
    }
  }

  /**
   * Joiners of one room within PRESENCE_THROTTLE_MS share one read of its list: in a join storm
   * every joiner reading the whole room (thousands of names, sorted) would cost the room's size
   * per join. A list a little behind is corrected by the announcement each join schedules.
   */
  private readOnline(roomId: string): Promise<RoomUsers> {
    const channel = this.channels.get(roomId);
    const now = Date.now();
    const last = channel?.onlineRead;
    if (last && now - last.at < PRESENCE_THROTTLE_MS) return last.users;
    const users = this.options.presence.users(roomId, LIMITS.presenceNamesMax);
    if (channel) {
      const read = { at: now, users };
      channel.onlineRead = read;
      users.catch(() => {
        if (channel.onlineRead === read) channel.onlineRead = null;
      });
    }
    return users;
  }

  /** Rooms with members here (each holds one bus subscription). */
  localRooms(): number {
    return this.channels.size;
  }

  localMembers(): number {
    let count = 0;
    for (const channel of this.channels.values()) count += channel.members.size;
    return count;
  }

  async close(): Promise<void> {
    if (this.presenceRetry) clearInterval(this.presenceRetry);
    this.stopWatchingDrift();
    await Promise.all([...this.presenceChanges]);
    for (const timer of this.presenceTimers.values()) clearTimeout(timer);
    this.presenceTimers.clear();
    const channels = [...this.channels.values()];
    this.channels.clear();
    for (const channel of channels) {
      this.stopGapTimer(channel);
      channel.typing.close();
    }
    await Promise.allSettled(channels.map(async (channel) => (await channel.ready)()));
  }

  private openChannel(roomId: string): Channel {
    const state: ChannelState = {
      roomId,
      members: new Set(),
      delivered: null,
      early: new Map(),
      gapTimer: null,
      typing: new TypingRoster(this.options.typingTtlMs ?? LIMITS.typingTtlMs, () =>
        this.announceTyping(state),
      ),
      presenceStale: false,
      onlineRead: null,
    };
    // One object: the subscription mutates the same state the hub reads.
    const channel: Channel = Object.assign(state, { ready: this.subscribe(state) });
    this.channels.set(roomId, channel);
    channel.ready.catch(() => {
      if (this.channels.get(roomId) === channel) this.channels.delete(roomId);
    });
    return channel;
  }

  private async subscribe(channel: ChannelState): Promise<() => Promise<void>> {
    const unsubscribe = await this.options.bus.subscribe(channel.roomId, (broadcast) =>
      this.receive(channel, broadcast),
    );
    try {
      // Subscribed first, then positioned: anything at or below the head is in the store
      // (members catch up from there); anything after it reaches this subscription.
      channel.delivered = await this.options.eventLog.head(channel.roomId);
    } catch (error) {
      await unsubscribe();
      throw error;
    }
    this.deliverInOrder(channel);
    return unsubscribe;
  }

  private removeMember(channel: Channel, member: RoomMember): void {
    channel.members.delete(member);
    if (channel.members.size > 0 || this.channels.get(channel.roomId) !== channel) return;
    this.channels.delete(channel.roomId);
    this.stopGapTimer(channel);
    channel.typing.close();
    channel.ready.then((unsubscribe) => unsubscribe()).catch(this.options.onError);
  }

  private receive(channel: ChannelState, broadcast: RoomSignal): void {
    if (broadcast.kind === 'resync') {
      this.resync(channel);
      return;
    }
    if (broadcast.kind === 'presence') {
      this.dispatch(
        channel,
        new SharedEvent(
          channel.delivered ?? 0,
          { type: 'presence', online: broadcast.online, users: broadcast.users ?? [] },
          false,
        ),
      );
      return;
    }
    if (broadcast.kind === 'typing') {
      channel.typing.typed(broadcast.user);
      this.announceTyping(channel);
      return;
    }
    if (channel.delivered !== null && broadcast.seq <= channel.delivered) return;
    channel.early.set(broadcast.seq, broadcast);
    this.deliverInOrder(channel);
  }

  /** Hands over every entry that is next in line; waits for the log to fill any gap left. */
  private deliverInOrder(channel: ChannelState): void {
    if (channel.delivered === null) return;
    let next = channel.early.get(channel.delivered + 1);
    while (next) {
      channel.early.delete(next.seq);
      this.deliver(channel, next);
      next = channel.early.get(next.seq + 1);
    }
    for (const seq of channel.early.keys()) if (seq <= channel.delivered) channel.early.delete(seq);
    if (channel.early.size === 0) this.stopGapTimer(channel);
    else if (!channel.gapTimer) this.fillGapIn(channel, this.gapWaitMs);
  }

  private fillGapIn(channel: ChannelState, delayMs: number): void {
    channel.gapTimer = setTimeout(() => {
      channel.gapTimer = 'reading';
      this.fillGap(channel).catch(this.options.onError);
    }, delayMs);
  }

  private async fillGap(channel: ChannelState): Promise<void> {
    const from = channel.delivered;
    if (from === null || channel.early.size === 0) {
      channel.gapTimer = null;
      return;
    }
    const upTo = Math.max(...channel.early.keys());
    let missing: LoggedEntry[];
    try {
      missing = await this.options.eventLog.eventsAfter(channel.roomId, from, upTo - from);
    } catch (error) {
      // The log cannot be read now (the database is unreachable): hold what arrived and ask
      // again, since skipping would lose entries that exist for every member here.
      if (channel.gapTimer === 'reading') this.fillGapIn(channel, GAP_RETRY_MS);
      throw error;
    }
    channel.gapTimer = null;
    for (const entry of missing) {
      if (!channel.early.has(entry.seq)) channel.early.set(entry.seq, { kind: 'logged', ...entry });
    }
    this.deliverInOrder(channel);
    // What the log does not hold is skipped rather than stalling the room for good.
    if (channel.delivered !== null && channel.early.size > 0) {
      this.options.onError(
        new Error(
          `room ${channel.roomId}: entries after ${channel.delivered} missing from the log`,
        ),
      );
      channel.delivered = Math.min(...channel.early.keys()) - 1;
      this.deliverInOrder(channel);
    }
  }

  /**
   * The bus lost the room for a while (a Redis failover, a slot move) and is back: whatever was
   * logged meanwhile never reached this subscription, so read it from the log (again later when
   * the log cannot be read now: those entries are nowhere else).
   */
  private resync(channel: ChannelState): void {
    // Presence announcements made meanwhile were lost with the rest: announce the count again.
    channel.presenceStale = true;
    this.readMissed(channel).catch((error: unknown) => {
      this.options.onError(error);
      setTimeout(() => {
        if (this.channels.get(channel.roomId) === channel) this.resync(channel);
      }, GAP_RETRY_MS).unref();
    });
  }

  private async readMissed(channel: ChannelState): Promise<void> {
    for (;;) {
      const from = channel.delivered;
      if (from === null) return; // Not positioned yet: it reads the head after subscribing.
      const entries = await this.options.eventLog.eventsAfter(channel.roomId, from, RESYNC_PAGE);
      for (const entry of entries) channel.early.set(entry.seq, { kind: 'logged', ...entry });
      this.deliverInOrder(channel);
      if (entries.length < RESYNC_PAGE || channel.delivered === from) return;
    }
  }

  private deliver(channel: ChannelState, entry: LoggedBroadcast): void {
    channel.delivered = entry.seq;
    // Members drop the author from who is typing when the message arrives; so does the roster.
    if (entry.event.type === 'message') channel.typing.stopped(entry.event.message.author.id);
    this.dispatch(channel, new SharedEvent(entry.seq, entry.event, true));
  }

  /** The hot path: one event, every local member of the room. */
  private dispatch(channel: ChannelState, event: SharedEvent): void {
    this.options.metrics?.dispatched(event, channel.members.size);
    for (const member of channel.members) member.receive(event);
  }

  private announceTyping(channel: ChannelState): void {
    const event = { type: 'typing' as const, users: channel.typing.users() };
    this.dispatch(channel, new SharedEvent(channel.delivered ?? 0, event, false));
  }

  private stopGapTimer(channel: ChannelState): void {
    if (channel.gapTimer !== 'reading' && channel.gapTimer) clearTimeout(channel.gapTimer);
    channel.gapTimer = null;
  }

  /** Applies a presence change; when it fails, the room's count is announced again at the next retry. */
  private async changePresence(
    channel: ChannelState,
    change: () => Promise<PresenceChange>,
  ): Promise<void> {
    try {
      const { changed } = await change();
      if (changed) this.announcePresence(channel.roomId);
    } catch (error) {
      this.presenceFailed(channel.roomId, error);
    }
  }

  private presenceFailed(roomId: string, error: unknown): void {
    const channel = this.channels.get(roomId);
    if (channel) channel.presenceStale = true;
    this.options.onPresenceError(error);
  }

  private announcePresence(roomId: string): void {
    if (this.presenceTimers.has(roomId)) return;
    const timer = setTimeout(() => {
      this.presenceTimers.delete(roomId);
      this.publishPresence(roomId).catch((error: unknown) => this.presenceFailed(roomId, error));
    }, this.presenceDelay(roomId));
    timer.unref();
    this.presenceTimers.set(roomId, timer);
  }

  private presenceDelay(roomId: string): number {
    const members = this.channels.get(roomId)?.members.size ?? 0;
    return Math.max(PRESENCE_THROTTLE_MS, (members * 1000) / PRESENCE_FRAMES_PER_SECOND);
  }

  /** Announces the counts that could not be changed or announced when they changed. */
  private retryPresence(): void {
    for (const channel of this.channels.values()) {
      if (!channel.presenceStale) continue;
      channel.presenceStale = false;
      this.announcePresence(channel.roomId);
    }
  }

  private async publishPresence(roomId: string): Promise<void> {
    const { online, users } = await this.options.presence.users(roomId, LIMITS.presenceNamesMax);
    await this.options.bus.publish(roomId, { kind: 'presence', online, users });
  }
}
