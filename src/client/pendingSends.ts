import type { Message } from '../contract/models.js';
import { type Backoff, backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
import { describeError, isRetryable } from './errors.js';

/** A message on its way: shown until it arrives in the room's feed. */
export interface PendingMessage {
  /** The id the send carries; every retry carries the same, so it is never posted twice. */
  clientMessageId: string;
  body: string;
  /** `sending` (also while it waits to be sent again after a lost connection) or `failed` for good. */
  status: 'sending' | 'failed';
  /** Why the last attempt did not go through, in words; null while none has failed. */
  error: string | null;
}

export interface PendingSendsOptions {
  post(body: string, clientMessageId: string): Promise<Message>;
  onChange(pending: PendingMessage[]): void;
  backoff?: Backoff;
  random?: () => number;
}

function stopped(): Error {
  return new Error('Stopped following the room before the message was sent');
}

/** A new client message id: 128 random bits as hex (crypto.getRandomValues works on plain http too). */
export function newClientMessageId(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * Exactly-once sends from a client: each message gets a client id, stays listed as pending until
 * it arrives in the feed, and is sent again with the same id whenever an attempt got no answer
 * (a dropped connection) or the server was briefly unavailable; the server answers a repeat with
 * the message the first attempt posted. A refusal (invalid, too fast, forbidden) fails it for good;
 * it stays listed as failed until retried or discarded.
 */
export class PendingSends {
  private pending: PendingMessage[] = [];
  /** Waits before the next attempt, each with how to abandon it. */
  private readonly waits = new Map<ReturnType<typeof setTimeout>, (error: Error) => void>();
  private closed = false;

  constructor(private readonly options: PendingSendsOptions) {}

  list(): PendingMessage[] {
    return this.pending;
  }

  send(body: string): Promise<Message> {
    const clientMessageId = newClientMessageId();
    this.set([...this.pending, { clientMessageId, body, status: 'sending', error: null }]);
    return this.attempt(clientMessageId, body, 0);
  }

  /** Sends a failed message again, with its id. */
  retry(clientMessageId: string): Promise<Message> {
    const message = this.pending.find((each) => each.clientMessageId === clientMessageId);
    if (!message) return Promise.reject(new Error('There is no such message waiting to be sent'));
    this.patch(clientMessageId, { status: 'sending', error: null });
    return this.attempt(clientMessageId, message.body, 0);
  }

  discard(clientMessageId: string): void {
    this.set(this.pending.filter((each) => each.clientMessageId !== clientMessageId));
  }

  /**
   * Drops the pending messages that are now among `messages` (their echo arrived), without
   * `onChange`: the caller is about to show those messages and `list()` together.
   */
  arrived(messages: readonly Message[]): void {
    if (this.pending.length === 0) return;
    const ids = new Set(messages.flatMap((m) => (m.clientMessageId ? [m.clientMessageId] : [])));
    this.pending = this.pending.filter((each) => !ids.has(each.clientMessageId));
  }

  /** Stops sending: messages waiting to be sent again fail with `stopped`. */
  close(): void {
    this.closed = true;
    for (const [timer, abandon] of this.waits) {
      clearTimeout(timer);
      abandon(stopped());
    }
    this.waits.clear();
  }

  private async attempt(clientMessageId: string, body: string, failures: number): Promise<Message> {
    try {
      return await this.options.post(body, clientMessageId);
    } catch (error) {
      const { code, message } = describeError(error);
      const resend = isRetryable(error) && code !== 'TOO_MANY_REQUESTS' && !this.closed;
      this.patch(clientMessageId, { status: resend ? 'sending' : 'failed', error: message });
      if (!resend) throw error;
      await this.pause(failures);
      return this.attempt(clientMessageId, body, failures + 1);
    }
  }

  private pause(failures: number): Promise<void> {
    const { backoff = DEFAULT_BACKOFF, random } = this.options;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => {
          this.waits.delete(timer);
          resolve();
        },
        backoffDelay(failures, backoff, random),
      );
      this.waits.set(timer, reject);
    });
  }

  private patch(clientMessageId: string, change: Partial<PendingMessage>): void {
    if (!this.pending.some((each) => each.clientMessageId === clientMessageId)) return;
    this.set(
      this.pending.map((each) =>
        each.clientMessageId === clientMessageId ? { ...each, ...change } : each,
      ),
    );
  }

  private set(pending: PendingMessage[]): void {
    this.pending = pending;
    this.options.onChange(pending);
  }
}
