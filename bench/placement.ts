import { roomKey } from '../src/redis/keys.js';
import { slotOf } from '../src/redis/slot.js';

/**
 * Which rooms a cluster run uses, so that their channels land on the masters it asks for. A
 * room's channel (and its presence key) lives on the master that serves the slot of its hash tag
 * (`{room:<id>}`), so the bench tries room ids `bench-0`, `bench-1`, … in order and keeps each
 * one whose slot is on a wanted master that still needs rooms.
 */

/** A master and the slots it serves, as CLUSTER NODES reports them. */
export interface SlotOwner {
  address: string;
  slots: readonly number[];
}

/** ChatHub's default key prefix: what the bench's servers run with. */
const KEY_PREFIX = 'chathub:';

/** Candidate ids tried per room wanted before giving up (a master with almost no slots). */
const CANDIDATES_PER_ROOM = 1_000;

export const channelOf = (roomId: string) => roomKey(KEY_PREFIX, roomId, 'events');

/** Masters in a stable order (by their lowest slot), the ones without slots left out. */
export function orderMasters<M extends SlotOwner>(masters: readonly M[]): M[] {
  const lowest = (master: SlotOwner) => Math.min(...master.slots);
  return masters.filter((master) => master.slots.length > 0).sort((a, b) => lowest(a) - lowest(b));
}

/**
 * `count` room ids spread as evenly as possible over the first `shards` masters (in
 * {@link orderMasters} order): the first `count mod shards` masters get one room more. The ids
 * come back in master-interleaved order (first master's first room, second master's first room,
 * …), so sending round robin over the rooms also goes round robin over the masters.
 */
export function roomsOnMasters(masters: readonly SlotOwner[], shards: number, count: number) {
  const ordered = orderMasters(masters);
  if (!Number.isInteger(shards) || shards < 1 || shards > ordered.length) {
    throw new Error(
      `cannot place rooms on ${shards} master(s): the cluster has ${ordered.length} serving slots`,
    );
  }
  const wanted = ordered.slice(0, shards);
  const masterOfSlot = new Map<number, number>();
  wanted.forEach((master, index) => {
    for (const slot of master.slots) masterOfSlot.set(slot, index);
  });
  const quota = wanted.map(
    (_, index) => Math.floor(count / shards) + (index < count % shards ? 1 : 0),
  );
  const picked: string[][] = wanted.map(() => []);
  let missing = count;
  for (let n = 0; missing > 0; n++) {
    if (n >= count * CANDIDATES_PER_ROOM) {
      throw new Error(`found only ${count - missing} of ${count} rooms on the wanted masters`);
    }
    const roomId = `bench-${n}`;
    const index = masterOfSlot.get(slotOf(channelOf(roomId)));
    if (index === undefined) continue;
    const mine = picked[index];
    if (!mine || mine.length >= (quota[index] ?? 0)) continue;
    mine.push(roomId);
    missing -= 1;
  }
  const interleaved: string[] = [];
  for (let round = 0; interleaved.length < count; round++) {
    for (const mine of picked) {
      const roomId = mine[round];
      if (roomId) interleaved.push(roomId);
    }
  }
  return interleaved;
}
