import { LIMITS } from '../contract/limits.js';
import type { PublicUser, Room, RoomPage } from '../contract/models.js';
import type { ListRoomsInput } from '../contract/schemas.js';
import { roomNameKey } from '../contract/text.js';
import { DIRECTORY_COUNTS } from '../limits.js';
import type { Presence } from '../presence/presence.js';
import { DuplicateKeyError, type NewRoom, type RoomRecord, type Store } from '../storage/store.js';
import { DomainError } from './errors.js';
import { ulid } from './ids.js';
import { KeyedQueue } from './keyedQueue.js';
import { OnlineCounts } from './onlineCounts.js';
import { type RateLimit, RateLimiter } from './rateLimiter.js';

export const DEFAULT_ROOM: NewRoom = { id: 'general', name: 'general', createdAt: 0 };

export interface RoomLimits {
  /** Rooms one user may create, per unit of time. */
  creations: RateLimit;
  /** Rooms one user may own in all. */
  ownedMax: number;
  /** The username of who looks after `general` (ADMIN_USERNAME); without it nobody does. */
  admin?: string;
}

export class RoomService {
  private readonly creations: RateLimiter;
  /** One user's creations run one at a time in this process, so the quota holds exactly here. */
  private readonly creating = new KeyedQueue();
  /** The configured admin once found (they may sign up after the server starts). */
  private admin: PublicUser | null = null;
  private readonly onlineCounts: OnlineCounts;

  constructor(
    private readonly store: Store,
    presence: Presence,
    private readonly limits: RoomLimits,
    now: () => number = Date.now,
  ) {
    this.creations = new RateLimiter(limits.creations, now);
    this.onlineCounts = new OnlineCounts(presence, DIRECTORY_COUNTS, now);
  }

  ensureDefault(): Promise<void> {
    return this.store.rooms.ensure(DEFAULT_ROOM);
  }

  /**
   * One page of rooms in name order, with live online counts for the rooms on it and, for a
   * signed-in `reader`, how many messages they have not read in each (capped).
   */
  async list({ cursor, limit, query }: ListRoomsInput, reader?: PublicUser): Promise<RoomPage> {
    const page = await this.store.rooms.list({
      afterKey: cursor ? keyOf(cursor) : undefined,
      limit,
      namePrefix: query,
    });
    const ids = page.rooms.map((room) => room.id);
    const [online, unread, rooms] = await Promise.all([
      // A directory without live counts beats no directory while presence is unreachable.
      this.onlineCounts.of(ids).catch(() => null),
      reader ? this.store.messages.unread(reader.id, ids, LIMITS.unreadCountMax) : null,
      Promise.all(page.rooms.map((room) => this.withOwner(room))),
    ]);
    return {
      rooms: rooms.map((room) => ({
        ...room,
        online: online ? (online.get(room.id) ?? 0) : null,
        unread: unread ? (unread.get(room.id) ?? 0) : null,
      })),
      nextCursor: page.nextKey === null ? null : cursorOf(page.nextKey),
    };
  }

  /** The room as callers see it, with who looks after it. */
  async get(roomId: string): Promise<Room> {
    return this.withOwner(await this.require(roomId));
  }

  /** Who may remove anyone's messages, pin and mark answers in the room; null: nobody. */
  async ownerOf(roomId: string): Promise<PublicUser | null> {
    return (await this.get(roomId)).owner;
  }

  /**
   * Creates a room. Rooms users create name their `owner` and count against that user's rate and
   * quota; rooms the server makes itself omit it.
   */
  async create(name: string, owner?: PublicUser): Promise<Room> {
    if (!owner) return this.insert(name);
    if (!this.creations.tryTake(owner.id)) {
      throw new DomainError(
        'TOO_MANY_REQUESTS',
        'You are creating rooms too quickly; wait a few minutes and try again',
      );
    }
    return this.creating.run(owner.id, async () => {
      if ((await this.store.rooms.countOwnedBy(owner.id)) >= this.limits.ownedMax) {
        throw new DomainError(
          'FORBIDDEN',
          `You have created ${this.limits.ownedMax} rooms, the most one person may create`,
        );
      }
      return this.insert(name, owner);
    });
  }

  async require(roomId: string): Promise<RoomRecord> {
    const room = await this.store.rooms.get(roomId);
    if (!room) throw roomNotFound(roomId);
    return room;
  }

  /** The stored room with its owner: `general`, which nobody created, is the admin's. */
  private async withOwner(room: RoomRecord): Promise<Room> {
    if (room.owner || room.id !== DEFAULT_ROOM.id) return room;
    return { ...room, owner: await this.findAdmin() };
  }

  private async findAdmin(): Promise<PublicUser | null> {
    if (this.admin || !this.limits.admin) return this.admin;
    const user = await this.store.users.findByUsername(this.limits.admin);
    this.admin = user && { id: user.id, username: user.username };
    return this.admin;
  }

  private async insert(name: string, owner?: PublicUser): Promise<Room> {
    const slug = roomIdFor(name);
    const room = { id: slug, name, createdAt: Date.now(), owner: owner ?? null };
    try {
      await this.store.rooms.create(room);
      return room;
    } catch (error) {
      if (!(error instanceof DuplicateKeyError)) throw error;
      // The slug can be taken by a differently named room ("日本語 Chat" and "Chat" both slug to
      // "chat"): the name itself is free then, and the room gets an id of its own.
      const holder = await this.store.rooms.get(slug);
      if (!holder || roomNameKey(holder.name) === roomNameKey(name)) throw taken(name);
    }
    const unique = { ...room, id: `${slug.slice(0, 40)}-${ulid().slice(-10).toLowerCase()}` };
    try {
      await this.store.rooms.create(unique);
      return unique;
    } catch (error) {
      throw error instanceof DuplicateKeyError ? taken(name) : error;
    }
  }
}

function taken(name: string): DomainError {
  return new DomainError('CONFLICT', `A room named "${name}" already exists`);
}

/** Page cursors are the last room's name key, opaque to clients. */
function cursorOf(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

function keyOf(cursor: string): string {
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!key || cursorOf(key) !== cursor) {
    throw new DomainError(
      'BAD_REQUEST',
      'This page cursor is not valid; load the list again from the start',
    );
  }
  return key;
}

export function roomNotFound(roomId: string): DomainError {
  return new DomainError('NOT_FOUND', `There is no room "${roomId}"`);
}

/** A readable URL-safe id ("Rust Fans" → "rust-fans"); names with no Latin letters get a ULID. */
export function roomIdFor(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48);
  return slug || `room-${ulid().toLowerCase()}`;
}
