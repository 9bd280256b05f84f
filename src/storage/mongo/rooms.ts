import { roomNameKey } from '../../contract/text.js';
import { prefixEnd } from '../roomKeys.js';
import {
  DuplicateKeyError,
  type NewRoom,
  type RoomListRequest,
  type RoomRecord,
  type RoomRepository,
} from '../store.js';
import type { Collections } from './collections.js';
import type { RoomDoc } from './documents.js';
import { ignoringDuplicate, isDuplicateKey } from './errors.js';

export function roomRepository({ rooms }: Collections): RoomRepository {
  const toRoom = (doc: RoomDoc): RoomRecord => ({
    id: doc._id,
    name: doc.name,
    createdAt: doc.createdAt,
    owner: doc.owner ? { id: doc.owner.id, username: doc.owner.username } : null,
  });
  return {
    async create(room: NewRoom) {
      try {
        await rooms.insertOne({
          _id: room.id,
          name: room.name,
          nameKey: roomNameKey(room.name),
          ...(room.owner ? { owner: { id: room.owner.id, username: room.owner.username } } : {}),
          createdAt: room.createdAt,
          seq: 0,
        });
      } catch (error) {
        if (isDuplicateKey(error)) throw new DuplicateKeyError('room');
        throw error;
      }
    },
    async ensure(room: NewRoom) {
      // Concurrent upserts of one _id can both try the insert; the loser's duplicate-key error
      // means the room exists, which is all ensure promises.
      await ignoringDuplicate(
        rooms.updateOne(
          { _id: room.id },
          {
            $setOnInsert: {
              name: room.name,
              nameKey: roomNameKey(room.name),
              createdAt: room.createdAt,
              seq: 0,
            },
          },
          { upsert: true },
        ),
      );
    },
    async get(id: string) {
      const doc = await rooms.findOne({ _id: id });
      return doc ? toRoom(doc) : null;
    },
    async list({ afterKey = '', limit, namePrefix }: RoomListRequest) {
      const prefix = namePrefix === undefined ? '' : roomNameKey(namePrefix);
      const nameKey = prefix
        ? { $gt: afterKey, $gte: prefix, $lt: prefixEnd(prefix) }
        : { $gt: afterKey };
      // One past the page tells whether another page follows.
      const docs = await rooms
        .find({ nameKey })
        .sort({ nameKey: 1 })
        .limit(limit + 1)
        .toArray();
      const shown = docs.slice(0, limit);
      return {
        rooms: shown.map(toRoom),
        nextKey: docs.length > limit ? (shown.at(-1)?.nameKey ?? null) : null,
      };
    },
    countOwnedBy(userId: string) {
      return rooms.countDocuments({ 'owner.id': userId });
    },
  };
}
