import type { Collection } from 'mongodb';
import { keysForExistingRooms } from '../roomKeys.js';
import type { RoomDoc } from './documents.js';

/**
 * Gives rooms stored before names were unique by key their key, before the unique index is built.
 * Every process computes the same keys from the same rooms, so several may run this at once.
 */
export async function keyExistingRooms(rooms: Collection<RoomDoc>): Promise<void> {
  const unkeyed = { nameKey: { $exists: false } };
  if (!(await rooms.findOne(unkeyed, { projection: { _id: 1 } }))) return;
  const all = await rooms
    .find({}, { projection: { name: 1, nameKey: 1 } })
    .sort({ createdAt: 1, _id: 1 })
    .toArray();
  const taken = new Set(all.flatMap((doc) => (doc.nameKey === undefined ? [] : [doc.nameKey])));
  const missing = all.filter((doc) => doc.nameKey === undefined);
  const keys = keysForExistingRooms(
    missing.map((doc) => ({ id: doc._id, name: doc.name })),
    taken,
  );
  for (const [id, nameKey] of keys) {
    await rooms.updateOne({ _id: id, ...unkeyed }, { $set: { nameKey } });
  }
}
