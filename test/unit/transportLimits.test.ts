import { describe, expect, it } from 'vitest';
import { ConnectionSlots } from '../../src/chat/transport/connectionSlots.js';
import { maxFrameBytes } from '../../src/chat/transport/transportLimits.js';
import { LIMITS } from '../../src/contract/limits.js';
import { TRANSPORT_DEFAULTS } from '../../src/limits.js';

/** What the stock client sends for a tick's calls: one request alone, several as an array. */
function stockFrame(count: number, body: string): string {
  const requests = Array.from({ length: count }, (_, i) => ({
    id: Number.MAX_SAFE_INTEGER - i,
    jsonrpc: '2.0',
    method: 'mutation',
    params: {
      input: { roomId: 'r'.repeat(64), body },
      path: 'chat.send',
      lastEventId: '9'.repeat(15),
    },
  }));
  return JSON.stringify(requests);
}

describe('maxFrameBytes', () => {
  it.each([
    ['control characters (six bytes each)', '\u0001'],
    ['lone surrogates (six bytes each)', '\ud800'],
    ['three-byte characters', '€'],
    ['emoji (two UTF-16 units, four bytes)', '😀'],
  ])('fits maxBatch requests of the longest body of %s', (_, unit) => {
    const body = unit.repeat(LIMITS.messageMax / unit.length);
    expect(body).toHaveLength(LIMITS.messageMax);
    const frame = Buffer.byteLength(stockFrame(TRANSPORT_DEFAULTS.maxBatch, body));
    expect(frame).toBeLessThanOrEqual(maxFrameBytes(TRANSPORT_DEFAULTS.maxBatch));
  });

  it('is not much larger than that worst case (under 5% above it)', () => {
    const worst = Buffer.byteLength(
      stockFrame(TRANSPORT_DEFAULTS.maxBatch, '\u0001'.repeat(LIMITS.messageMax)),
    );
    expect(maxFrameBytes(TRANSPORT_DEFAULTS.maxBatch)).toBeLessThan(worst * 1.05);
  });

  it('grows with the batch size', () => {
    expect(maxFrameBytes(10)).toBeLessThan(maxFrameBytes(TRANSPORT_DEFAULTS.maxBatch));
  });
});

describe('ConnectionSlots', () => {
  it('gives each key up to the cap, and a slot back once when released', () => {
    const slots = new ConnectionSlots(2);
    const first = slots.tryTake('a');
    const second = slots.tryTake('a');
    expect(first).not.toBeNull();
    expect(second).not.toBeNull();
    expect(slots.tryTake('a')).toBeNull();
    expect(slots.tryTake('b')).not.toBeNull();
    first?.();
    first?.();
    expect(slots.tryTake('a')).not.toBeNull();
    expect(slots.tryTake('a')).toBeNull();
  });
});
