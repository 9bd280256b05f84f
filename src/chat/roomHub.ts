import type { EventBus, RoomBroadcast } from '../bus/eventBus.js';
import type { Presence } from '../presence/presence.js';
import { SharedEvent } from './sharedEvent.js';

export interface RoomMember {
  readonly userId: string;
  receive(event: SharedEvent): void;
}

interface Channel {
  readonly members: Set<RoomMember>;
  /** Highest sequence number seen in the room; presence events carry it as their id. */
  lastSeq: number;
  readonly unsubscribe: Promise<() => Promise<void>>;
}

/** Presence changes are published at most this often per room, coalescing join storms. */
const PRESENCE_THROTTLE_MS = 250;

/**
 * The chat server's local fan-out: which members are in which room on this process. It holds
 * one bus subscription per room with local members and hands each event to every member.
 */
export class RoomHub {
  private readonly channels = new Map<string, Channel>();
  private readonly presenceTimers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly bus: EventBus,
    private readonly presence: Presence,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Adds a member; the returned function removes it again (idempotent). */
  async join(roomId: string, member: RoomMember): Promise<() => Promise<void>> {
    const channel = this.channels.get(roomId) ?? this.openChannel(roomId);
    channel.members.add(member);
    try {
      await channel.unsubscribe;
      const { changed } = await this.presence.join(roomId, member.userId);
      if (changed) this.announcePresence(roomId);
    } catch (error) {
      this.removeMember(roomId, channel, member);
      throw error;
    }
    let joined = true;
    return async () => {
      if (!joined) return;
      joined = false;
      this.removeMember(roomId, channel, member);
      const { changed } = await this.presence.leave(roomId, member.userId);
      if (changed) this.announcePresence(roomId);
    };
  }

  /** Records that `seq` is known to exist, so presence events can carry an id at least that high. */
  advance(roomId: string, seq: number): void {
    const channel = this.channels.get(roomId);
    if (channel && seq > channel.lastSeq) channel.lastSeq = seq;
  }

  localMembers(): number {
    let count = 0;
    for (const channel of this.channels.values()) count += channel.members.size;
    return count;
  }

  async close(): Promise<void> {
    for (const timer of this.presenceTimers.values()) clearTimeout(timer);
    this.presenceTimers.clear();
    const channels = [...this.channels.values()];
    this.channels.clear();
    await Promise.allSettled(channels.map(async (channel) => (await channel.unsubscribe)()));
  }

  private openChannel(roomId: string): Channel {
    const members = new Set<RoomMember>();
    const channel: Channel = {
      members,
      lastSeq: 0,
      unsubscribe: this.bus.subscribe(roomId, (broadcast) => this.dispatch(channel, broadcast)),
    };
    this.channels.set(roomId, channel);
    channel.unsubscribe.catch(() => this.channels.delete(roomId));
    return channel;
  }

  private removeMember(roomId: string, channel: Channel, member: RoomMember): void {
    channel.members.delete(member);
    if (channel.members.size > 0 || this.channels.get(roomId) !== channel) return;
    this.channels.delete(roomId);
    channel.unsubscribe.then((unsubscribe) => unsubscribe()).catch(this.onError);
  }

  /** The hot path: one event, every local member of the room. */
  private dispatch(channel: Channel, broadcast: RoomBroadcast): void {
    let event: SharedEvent;
    if (broadcast.kind === 'logged') {
      if (broadcast.seq > channel.lastSeq) channel.lastSeq = broadcast.seq;
      event = new SharedEvent(broadcast.seq, broadcast.event, true);
    } else {
      event = new SharedEvent(
        channel.lastSeq,
        { type: 'presence', online: broadcast.online },
        false,
      );
    }
    for (const member of channel.members) member.receive(event);
  }

  private announcePresence(roomId: string): void {
    if (this.presenceTimers.has(roomId)) return;
    const timer = setTimeout(() => {
      this.presenceTimers.delete(roomId);
      this.publishPresence(roomId).catch(this.onError);
    }, PRESENCE_THROTTLE_MS);
    timer.unref();
    this.presenceTimers.set(roomId, timer);
  }

  private async publishPresence(roomId: string): Promise<void> {
    const online = (await this.presence.count([roomId])).get(roomId) ?? 0;
    await this.bus.publish(roomId, { kind: 'presence', online });
  }
}
