import { describe, expect, it } from 'vitest';
import { createMemoryBus } from '../../src/bus/memory.js';
import { LIMITS } from '../../src/contract/limits.js';
import type { RoomService } from '../../src/domain/rooms.js';
import { TypingService } from '../../src/domain/typing.js';

const ada = { id: 'ada-id', username: 'ada' };

describe('TypingService', () => {
  it('takes a client signal every typing interval even when jitter brings one in early, and ignores a faster one', async () => {
    let now = 0;
    const bus = createMemoryBus();
    const relayed: number[] = [];
    await bus.subscribe('general', (signal) => {
      if (signal.kind === 'typing') relayed.push(now);
    });
    const rooms = { require: async () => ({}) } as unknown as RoomService;
    const typing = new TypingService(bus, rooms, () => now);
    const signalAt = async (at: number) => {
      now = at;
      await typing.typing(ada, { roomId: 'general' });
    };

    const interval = LIMITS.typingIntervalMs;
    // The first signal came in late, the next (sent one interval later) 300 ms early.
    await signalAt(300);
    await signalAt(interval);
    // Typing fast is not an error: a signal right after another is answered and ignored.
    await signalAt(interval + 100);
    await signalAt(2 * interval);
    expect(relayed).toEqual([300, interval, 2 * interval]);
  });
});
