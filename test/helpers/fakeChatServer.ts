import { createTRPCClient, TRPCClientError, type TRPCLink } from '@trpc/client';
import { observable } from '@trpc/server/observable';
import type { ChatRouter } from '../../src/appRouter.js';
import type { ChatEvent } from '../../src/contract/events.js';

/*
 * A chat server played by the test: a tRPC link that hands every subscription and request to
 * the test, which answers, fails or drops them by hand. For unit tests of the room follower and
 * the React hook built on it.
 */

export interface FakeFeed {
  input: { roomId: string; lastEventId?: string | null };
  unsubscribed: boolean;
  emit(id: number, event: ChatEvent): void;
  fail(error: TRPCClientError<ChatRouter>): void;
  dropConnection(): void;
  complete(): void;
}

export interface FakeRequest {
  path: string;
  input: unknown;
  answer(data: unknown): void;
  fail(error: TRPCClientError<ChatRouter>): void;
}

export function serverError(code: string, message: string): TRPCClientError<ChatRouter> {
  return TRPCClientError.from({ error: { code: -32000, message, data: { code } } });
}

/** What the client sees when no server answered at all. */
export const connectionLost = () => TRPCClientError.from<ChatRouter>(new Error('WebSocket closed'));

export function fakeServer() {
  const feeds: FakeFeed[] = [];
  const requests: FakeRequest[] = [];
  const link: TRPCLink<ChatRouter> =
    () =>
    ({ op }) =>
      observable((observer) => {
        if (op.type !== 'subscription') {
          requests.push({
            path: op.path,
            input: op.input,
            answer: (data) => {
              observer.next({ result: { type: 'data', data } });
              observer.complete();
            },
            fail: (error) => observer.error(error),
          });
          return () => {};
        }
        const feed: FakeFeed = {
          input: op.input as FakeFeed['input'],
          unsubscribed: false,
          emit: (id, event) =>
            observer.next({ result: { type: 'data', data: { id: String(id), data: event } } }),
          fail: (error) => observer.error(error),
          dropConnection: () =>
            observer.next({
              result: { type: 'state', state: 'connecting', error: connectionLost() },
            }),
          complete: () => observer.complete(),
        };
        feeds.push(feed);
        return () => {
          feed.unsubscribed = true;
        };
      });
  const client = createTRPCClient<ChatRouter>({ links: [link] });
  return {
    client,
    feeds,
    requests,
    latest(): FakeFeed {
      const feed = feeds.at(-1);
      if (!feed) throw new Error('no subscription yet');
      return feed;
    },
    /** The one request on `path` not yet answered. */
    request(path: string): FakeRequest {
      const found = requests.find((request) => request.path === path);
      if (!found) throw new Error(`no ${path} request`);
      requests.splice(requests.indexOf(found), 1);
      return found;
    },
  };
}
