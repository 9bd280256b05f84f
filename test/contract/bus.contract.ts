import { afterEach, describe, expect, it, vi } from 'vitest';
import type { EventBus, RoomBroadcast, RoomSignal } from '../../src/bus/eventBus.js';
import { AS_SENT, type Message } from '../../src/contract/models.js';

/**
 * The behaviour every {@link EventBus} adapter must have. `create` returns a new, connected bus;
 * the suite closes each one after its test. Delivery may be asynchronous (a network bus), so
 * tests wait for what they expect, and prove an absence by waiting for a later broadcast that
 * must arrive after it. Room ids are unique per test, so buses may share one server.
 */
export function describeBusContract(name: string, create: () => Promise<EventBus>): void {
  describe(`EventBus contract: ${name}`, () => {
    const opened: EventBus[] = [];
    const open = async () => {
      const bus = await create();
      opened.push(bus);
      return bus;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((bus) => bus.close()));
    });

    const runTag = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
    let counter = 0;
    const room = () => `bus-${runTag}-${++counter}`;

    const message = (roomId: string, body: string): Message => ({
      id: '01J00000000000000000000000',
      roomId,
      author: { id: 'u1', username: 'alice' },
      body,
      createdAt: 1_700_000_000_000,
      up: 0,
      down: 0,
      ...AS_SENT,
    });
    const logged = (roomId: string, seq: number): RoomBroadcast => ({
      kind: 'logged',
      seq,
      event: { type: 'message', message: message(roomId, `#${seq}`) },
    });
    const recorder = () => {
      const received: RoomSignal[] = [];
      return { received, listener: (b: RoomSignal) => void received.push(b) };
    };
    const eventually = (assertion: () => void) =>
      vi.waitFor(assertion, { timeout: 5_000, interval: 5 });

    it('delivers a broadcast intact to a subscriber of its room', async () => {
      const bus = await open();
      const roomId = room();
      const { received, listener } = recorder();
      await bus.subscribe(roomId, listener);
      const vote: RoomBroadcast = {
        kind: 'logged',
        seq: 7,
        event: { type: 'vote', messageId: 'm1', up: 3, down: 1, voterId: 'u9', vote: 'down' },
      };
      await bus.publish(roomId, logged(roomId, 1));
      await bus.publish(roomId, vote);
      await bus.publish(roomId, { kind: 'presence', online: 12 });
      await eventually(() => expect(received).toHaveLength(3));
      expect(received).toEqual([logged(roomId, 1), vote, { kind: 'presence', online: 12 }]);
    });

    it('keeps publish order for 1000 broadcasts', async () => {
      const bus = await open();
      const roomId = room();
      const { received, listener } = recorder();
      await bus.subscribe(roomId, listener);
      const sent = Array.from({ length: 1000 }, (_, i) => logged(roomId, i + 1));
      // Issued back to back without waiting: publish order is call order.
      await Promise.all(sent.map((broadcast) => bus.publish(roomId, broadcast)));
      await eventually(() => expect(received).toHaveLength(1000));
      expect(received.map((b) => (b.kind === 'logged' ? b.seq : -1))).toEqual(
        sent.map((_, i) => i + 1),
      );
      expect(received).toEqual(sent);
    });

    it('delivers every broadcast to each of two subscribers', async () => {
      const bus = await open();
      const roomId = room();
      const first = recorder();
      const second = recorder();
      await bus.subscribe(roomId, first.listener);
      await bus.subscribe(roomId, second.listener);
      const sent = Array.from({ length: 20 }, (_, i) => logged(roomId, i + 1));
      for (const broadcast of sent) await bus.publish(roomId, broadcast);
      await eventually(() => {
        expect(first.received).toHaveLength(20);
        expect(second.received).toHaveLength(20);
      });
      expect(first.received).toEqual(sent);
      expect(second.received).toEqual(sent);
    });

    it('isolates rooms: a subscriber only hears its own room', async () => {
      const bus = await open();
      const roomA = room();
      const roomB = room();
      const a = recorder();
      const b = recorder();
      await bus.subscribe(roomA, a.listener);
      await bus.subscribe(roomB, b.listener);
      await bus.publish(roomB, logged(roomB, 1));
      await bus.publish(roomA, logged(roomA, 1));
      await bus.publish(roomA, logged(roomA, 2));
      await bus.publish(roomB, logged(roomB, 2));
      // A room nobody here listens to.
      await bus.publish(room(), logged(roomA, 99));
      await eventually(() => {
        expect(a.received).toHaveLength(2);
        expect(b.received).toHaveLength(2);
      });
      // Sentinels published last: once they arrive, anything misrouted would have too.
      await bus.publish(roomA, { kind: 'presence', online: 1 });
      await bus.publish(roomB, { kind: 'presence', online: 2 });
      await eventually(() => {
        expect(a.received).toHaveLength(3);
        expect(b.received).toHaveLength(3);
      });
      expect(a.received).toEqual([
        logged(roomA, 1),
        logged(roomA, 2),
        { kind: 'presence', online: 1 },
      ]);
      expect(b.received).toEqual([
        logged(roomB, 1),
        logged(roomB, 2),
        { kind: 'presence', online: 2 },
      ]);
    });

    it('stops delivering to a listener once it unsubscribes, and keeps the others', async () => {
      const bus = await open();
      const roomId = room();
      const leaving = recorder();
      const staying = recorder();
      const unsubscribe = await bus.subscribe(roomId, leaving.listener);
      await bus.subscribe(roomId, staying.listener);
      await bus.publish(roomId, logged(roomId, 1));
      await eventually(() => {
        expect(leaving.received).toHaveLength(1);
        expect(staying.received).toHaveLength(1);
      });

      await unsubscribe();
      await bus.publish(roomId, logged(roomId, 2));
      await bus.publish(roomId, logged(roomId, 3));
      await eventually(() => expect(staying.received).toHaveLength(3));
      expect(leaving.received).toEqual([logged(roomId, 1)]);
      expect(staying.received).toEqual([1, 2, 3].map((seq) => logged(roomId, seq)));
    });

    it('answers ping while connected, also with rooms subscribed', async () => {
      const bus = await open();
      await expect(bus.ping()).resolves.toBeUndefined();
      await bus.subscribe(room(), () => {});
      await expect(bus.ping()).resolves.toBeUndefined();
    });

    it('stops delivering after the last listener leaves, and a new subscription works', async () => {
      const bus = await open();
      const roomId = room();
      const old = recorder();
      const unsubscribe = await bus.subscribe(roomId, old.listener);
      await bus.publish(roomId, logged(roomId, 1));
      await eventually(() => expect(old.received).toHaveLength(1));
      await unsubscribe();

      await bus.publish(roomId, logged(roomId, 2));
      const fresh = recorder();
      await bus.subscribe(roomId, fresh.listener);
      await bus.publish(roomId, logged(roomId, 3));
      await eventually(() => expect(fresh.received).toContainEqual(logged(roomId, 3)));
      expect(old.received).toEqual([logged(roomId, 1)]);
      expect(fresh.received).not.toContainEqual(logged(roomId, 1));
    });

    it('treats a second unsubscribe as a no-op that never cuts off later subscribers', async () => {
      const bus = await open();
      const roomId = room();
      const first = await bus.subscribe(roomId, () => {});
      await first();
      const later = recorder();
      await bus.subscribe(roomId, later.listener);
      await first();
      await bus.publish(roomId, logged(roomId, 1));
      await eventually(() => expect(later.received).toEqual([logged(roomId, 1)]));
    });
  });
}
