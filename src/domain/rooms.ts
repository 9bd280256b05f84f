import type { Room, RoomWithOnline } from '../contract/models.js';
import type { Presence } from '../presence/presence.js';
import { DuplicateKeyError, type Store } from '../storage/store.js';
import { DomainError } from './errors.js';
import { ulid } from './ids.js';

export const DEFAULT_ROOM: Room = { id: 'general', name: 'general', createdAt: 0 };

export class RoomService {
  constructor(
    private readonly store: Store,
    private readonly presence: Presence,
  ) {}

  ensureDefault(): Promise<void> {
    return this.store.rooms.ensure(DEFAULT_ROOM);
  }

  async list(): Promise<RoomWithOnline[]> {
    const rooms = await this.store.rooms.list();
    const online = await this.presence.count(rooms.map((room) => room.id));
    return rooms.map((room) => ({ ...room, online: online.get(room.id) ?? 0 }));
  }

  async create(name: string): Promise<Room> {
    const room = { id: roomIdFor(name), name, createdAt: Date.now() };
    try {
      await this.store.rooms.create(room);
    } catch (error) {
      if (error instanceof DuplicateKeyError) {
        throw new DomainError('CONFLICT', `A room named "${name}" already exists`);
      }
      throw error;
    }
    return room;
  }

  async require(roomId: string): Promise<Room> {
    const room = await this.store.rooms.get(roomId);
    if (!room) throw roomNotFound(roomId);
    return room;
  }
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
