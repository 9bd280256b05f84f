/**
 * The message every system carries. Baselines broadcast the same shape ChatHub's `message`
 * event has, so frame sizes are comparable; the body carries the phase and the send time.
 */

export interface BenchAuthor {
  id: string;
  username: string;
}

export interface BenchMessage {
  id: string;
  roomId: string;
  author: BenchAuthor;
  body: string;
  createdAt: number;
  up: number;
  down: number;
}

export interface RoomMessageEvent {
  type: 'message';
  message: BenchMessage;
}

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
