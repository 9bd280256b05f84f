import { afterEach, describe, expect, it } from 'vitest';
import type { Presence } from '../../src/presence/presence.js';

/**
 * The behaviour every {@link Presence} adapter must have. `create` returns a new, connected
 * presence; the suite closes each one after its test. Room ids are unique per test, so adapters
 * backed by a shared server need no cleanup between runs.
 */
export function describePresenceContract(name: string, create: () => Promise<Presence>): void {
  describe(`Presence contract: ${name}`, () => {
    const opened: Presence[] = [];
    const open = async () => {
      const presence = await create();
      opened.push(presence);
      return presence;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((presence) => presence.close()));
    });

    const runTag = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
    let counter = 0;
    const room = () => `presence-${runTag}-${++counter}`;
    const countOf = async (presence: Presence, roomId: string) =>
      (await presence.count([roomId])).get(roomId);

    it('counts distinct users as they join and leave, flagging each change', async () => {
      const presence = await open();
      const roomId = room();
      await expect(presence.join(roomId, 'alice')).resolves.toEqual({ online: 1, changed: true });
      await expect(presence.join(roomId, 'bob')).resolves.toEqual({ online: 2, changed: true });
      await expect(presence.join(roomId, 'carol')).resolves.toEqual({ online: 3, changed: true });
      await expect(countOf(presence, roomId)).resolves.toBe(3);
      await expect(presence.leave(roomId, 'bob')).resolves.toEqual({ online: 2, changed: true });
      await expect(presence.leave(roomId, 'alice')).resolves.toEqual({ online: 1, changed: true });
      await expect(presence.leave(roomId, 'carol')).resolves.toEqual({ online: 0, changed: true });
      await expect(countOf(presence, roomId)).resolves.toBe(0);
    });

    it('counts a user with two subscriptions once, until both have left', async () => {
      const presence = await open();
      const roomId = room();
      await expect(presence.join(roomId, 'alice')).resolves.toEqual({ online: 1, changed: true });
      await expect(presence.join(roomId, 'alice')).resolves.toEqual({ online: 1, changed: false });
      await expect(presence.join(roomId, 'bob')).resolves.toEqual({ online: 2, changed: true });
      await expect(countOf(presence, roomId)).resolves.toBe(2);
      await expect(presence.leave(roomId, 'alice')).resolves.toEqual({
        online: 2,
        changed: false,
      });
      await expect(countOf(presence, roomId)).resolves.toBe(2);
      await expect(presence.leave(roomId, 'alice')).resolves.toEqual({ online: 1, changed: true });
      await expect(countOf(presence, roomId)).resolves.toBe(1);
      // Coming back after leaving counts again.
      await expect(presence.join(roomId, 'alice')).resolves.toEqual({ online: 2, changed: true });
    });

    it('keeps rooms apart', async () => {
      const presence = await open();
      const roomA = room();
      const roomB = room();
      await presence.join(roomA, 'alice');
      await presence.join(roomA, 'bob');
      await expect(presence.join(roomB, 'alice')).resolves.toEqual({ online: 1, changed: true });
      await expect(presence.leave(roomB, 'alice')).resolves.toEqual({ online: 0, changed: true });
      await expect(countOf(presence, roomA)).resolves.toBe(2);
    });

    it('counts many rooms in one call, including unknown rooms as 0', async () => {
      const presence = await open();
      const rooms = Array.from({ length: 30 }, () => room());
      await Promise.all(
        rooms.flatMap((roomId, i) =>
          Array.from({ length: i % 5 }, (_, user) => presence.join(roomId, `user-${user}`)),
        ),
      );
      const unknown = [room(), room()];
      const counts = await presence.count([...rooms, ...unknown]);
      expect(counts).toBeInstanceOf(Map);
      expect(counts.size).toBe(32);
      for (const [i, roomId] of rooms.entries()) expect(counts.get(roomId)).toBe(i % 5);
      for (const roomId of unknown) expect(counts.get(roomId)).toBe(0);
      await expect(presence.count([])).resolves.toEqual(new Map());
    });

    it('lists who is online by name, each user once, up to the cap, with the total', async () => {
      const presence = await open();
      const roomId = room();
      await presence.join(roomId, 'id-c', 'carol');
      await presence.join(roomId, 'id-a', 'Ada');
      await presence.join(roomId, 'id-b', 'bob');
      await presence.join(roomId, 'id-a', 'Ada'); // a second tab
      await presence.join(room(), 'id-z', 'zed'); // elsewhere
      const ada = { id: 'id-a', username: 'Ada' };
      const bob = { id: 'id-b', username: 'bob' };
      const carol = { id: 'id-c', username: 'carol' };
      await expect(presence.users(roomId, 10)).resolves.toEqual({
        online: 3,
        users: [ada, bob, carol],
      });
      await expect(presence.users(roomId, 2)).resolves.toEqual({ online: 3, users: [ada, bob] });
      await presence.leave(roomId, 'id-b');
      await presence.leave(roomId, 'id-a');
      await expect(presence.users(roomId, 10)).resolves.toEqual({
        online: 2,
        users: [ada, carol],
      });
      await expect(presence.users(room(), 10)).resolves.toEqual({ online: 0, users: [] });
    });

    it('lists a user who joined without a name by their id', async () => {
      const presence = await open();
      const roomId = room();
      await presence.join(roomId, 'nameless');
      await expect(presence.users(roomId, 10)).resolves.toEqual({
        online: 1,
        users: [{ id: 'nameless', username: 'nameless' }],
      });
    });

    it('stays exact when many users join and leave at the same moment', async () => {
      const presence = await open();
      const roomId = room();
      const users = Array.from({ length: 50 }, (_, i) => `user-${i}`);
      const joins = await Promise.all(users.map((user) => presence.join(roomId, user)));
      expect(joins.every((change) => change.changed)).toBe(true);
      // Each join saw a different count: 1…50 in some order.
      expect(joins.map((c) => c.online).sort((a, b) => a - b)).toEqual(users.map((_, i) => i + 1));
      await expect(countOf(presence, roomId)).resolves.toBe(50);

      // Half leave while the other half opens a second subscription.
      const changes = await Promise.all(
        users.map((user, i) =>
          i % 2 ? presence.leave(roomId, user) : presence.join(roomId, user),
        ),
      );
      expect(changes.filter((c) => c.changed)).toHaveLength(25);
      await expect(countOf(presence, roomId)).resolves.toBe(25);
    });
  });
}
