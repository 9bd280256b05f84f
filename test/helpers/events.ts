import type { Unsubscribable } from '@trpc/server/observable';
import type { ChatHubConnection } from '../../src/client/index.js';
import type { ChatEvent } from '../../src/contract/events.js';
import type { MessageView } from '../../src/contract/models.js';
import { applyChatEvent, EMPTY_ROOM, type RoomState } from '../../src/contract/roomState.js';
import { Waiters } from './wait.js';

export interface Received {
  id: string;
  event: ChatEvent;
}

/** Subscribes to a room and records every event, with helpers to wait for what a test expects. */
export class EventLog {
  readonly received: Received[] = [];
  readonly errors: Error[] = [];
  private subscription: Unsubscribable | null = null;
  private readonly waiters = new Waiters();

  private constructor(private readonly readerId: string) {}

  static open(connection: ChatHubConnection, roomId: string, lastEventId?: string): EventLog {
    const log = new EventLog(connection.session().user.id);
    log.subscription = connection.chat.events.subscribe(
      { roomId, lastEventId },
      {
        onData: ({ id, data }) => {
          log.received.push({ id, event: data });
          log.notify();
        },
        onError: (error) => {
          log.errors.push(error);
          log.notify();
        },
      },
    );
    return log;
  }

  /** The room as this subscriber sees it, rebuilt as a client would. */
  messages(): MessageView[] {
    return this.state().messages;
  }

  state(): RoomState {
    return this.received.reduce(
      (room, { event }) => applyChatEvent(room, event, this.readerId),
      EMPTY_ROOM,
    );
  }

  online(): number | undefined {
    for (let i = this.received.length - 1; i >= 0; i--) {
      const event = this.received[i]?.event;
      if (event?.type === 'presence') return event.online;
    }
    return undefined;
  }

  lastId(): string | undefined {
    return this.received.at(-1)?.id;
  }

  waitFor(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
    return this.waiters.until(
      condition,
      () =>
        `${what}; got ${JSON.stringify(this.received.map((r) => r.event.type))} errors ${this.errors.map((e) => e.message)}`,
      timeoutMs,
    );
  }

  close(): void {
    this.subscription?.unsubscribe();
  }

  private notify(): void {
    this.waiters.notify();
  }
}
