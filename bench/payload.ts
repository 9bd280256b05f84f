import type { MessageEvent } from '../src/contract/events.js';
import { AS_SENT, type PublicUser } from '../src/contract/models.js';

/**
 * The message every system carries. Baselines broadcast ChatHub's own `message` event, typed by
 * the contract (so it cannot drift when the message grows a field), so frame sizes and the work
 * of reading one compare; the body carries the phase and the send time.
 */

export type BenchAuthor = PublicUser;
export type RoomMessageEvent = MessageEvent;

/** Wall-clock ms with sub-ms resolution; comparable across processes on one machine. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** `t:<phase>:<epoch ms>`: a receiver computes its latency from the body alone. */
export function encodeBody(phase: number, sentAt: number): string {
  return `t:${phase}:${sentAt.toFixed(3)}`;
}

export interface DecodedBody {
  phase: number;
  sentAt: number;
}

export function decodeBody(body: string): DecodedBody | null {
  if (!body.startsWith('t:')) return null;
  const split = body.indexOf(':', 2);
  if (split < 0) return null;
  const phase = Number(body.slice(2, split));
  const sentAt = Number(body.slice(split + 1));
  return Number.isFinite(phase) && Number.isFinite(sentAt) ? { phase, sentAt } : null;
}

export function roomMessageEvent(
  seq: number,
  roomId: string,
  author: BenchAuthor,
  body: string,
): RoomMessageEvent {
  return {
    type: 'message',
    message: {
      id: String(seq).padStart(26, '0'),
      roomId,
      author,
      body,
      createdAt: Date.now(),
      up: 0,
      down: 0,
      ...AS_SENT,
    },
  };
}

/** The body of a `message` event, from an already parsed frame; null for anything else. */
export function messageBodyOf(event: unknown): string | null {
  if (typeof event !== 'object' || event === null) return null;
  const { type, message } = event as { type?: unknown; message?: unknown };
  if (type !== 'message' || typeof message !== 'object' || message === null) return null;
  const { body } = message as { body?: unknown };
  return typeof body === 'string' ? body : null;
}
