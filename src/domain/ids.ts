import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const RANDOM_CHARS = 16;

/**
 * Monotonic ULIDs: 48-bit millisecond time then 80 random bits, Crockford base32.
 * Ids made in the same millisecond increment the random part, so they still sort in the
 * order they were made (message ids double as the history cursor).
 */
export function createUlidFactory(now: () => number = Date.now): () => string {
  let lastTime = -1;
  let lastRandom: number[] = [];

  return () => {
    const time = Math.max(now(), lastTime);
    if (time === lastTime) {
      lastRandom = increment(lastRandom);
    } else {
      lastTime = time;
      lastRandom = Array.from(randomBytes(RANDOM_CHARS), (byte) => byte & 31);
    }
    return encodeTime(time) + lastRandom.map((digit) => ALPHABET[digit]).join('');
  };
}

function encodeTime(time: number): string {
  let out = '';
  let rest = time;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[rest % 32] + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}

function increment(digits: number[]): number[] {
  const next = [...digits];
  for (let i = next.length - 1; i >= 0; i--) {
    const digit = next[i] ?? 0;
    if (digit < 31) {
      next[i] = digit + 1;
      return next;
    }
    next[i] = 0;
  }
  throw new Error('ULID random part overflowed within one millisecond');
}

export const ulid = createUlidFactory();
