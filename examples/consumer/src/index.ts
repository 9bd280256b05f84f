/**
 * Signs up, joins 'general', sends a message, upvotes it and waits to see both come back through
 * the live subscription. Run against a server: CHATHUB_URL=http://localhost:8080 node dist/index.js
 */
import type { inferRouterOutputs } from '@trpc/server';
import { type ApiRouter, type ChatEvent, connect, createApiClient } from 'chathub';
import { WebSocket } from 'ws';

/** Types inferred from the router: one room of a `rooms.list` page. */
type Room = inferRouterOutputs<ApiRouter>['rooms']['list']['rooms'][number];

const apiUrl = process.env.CHATHUB_URL ?? 'http://localhost:8080';
const username = `demo-${Date.now().toString(36)}`;
const password = 'correct horse battery';

await createApiClient(apiUrl).auth.signUp.mutate({ username, password });
const hub = await connect({
  apiUrl,
  username,
  password,
  WebSocket, // Node 20 has no global WebSocket; `ws` provides one.
});

// The first page (50 rooms in name order); pass `nextCursor` back as `cursor` for the next.
const { rooms }: { rooms: Room[] } = await hub.api.rooms.list.query();
console.log(`rooms: ${rooms.map((room) => `${room.name} (${room.online} online)`).join(', ')}`);

const seen: ChatEvent[] = [];
let onEvent = () => {};
const subscription = hub.chat.chat.events.subscribe(
  { roomId: 'general' },
  {
    onData: ({ data }) => {
      seen.push(data);
      onEvent();
    },
    onError: (error) => console.error(`subscription failed: ${error.message}`),
  },
);

/** Resolves once an event matching `check` has arrived. */
function waitFor(check: (event: ChatEvent) => boolean, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 10_000);
    onEvent = () => {
      if (!seen.some(check)) return;
      clearTimeout(timer);
      resolve();
    };
    onEvent();
  });
}

try {
  await waitFor((event) => event.type === 'snapshot', 'the snapshot');
  const message = await hub.chat.chat.send.mutate({
    roomId: 'general',
    body: `hi from ${username}`,
  });
  await hub.chat.chat.vote.mutate({ messageId: message.id, vote: 'up' });
  await waitFor((e) => e.type === 'message' && e.message.id === message.id, 'my message');
  await waitFor((e) => e.type === 'vote' && e.messageId === message.id && e.up === 1, 'my upvote');
  console.log(`ok ${message.id} up=1`);
} finally {
  subscription.unsubscribe();
  await hub.close();
}
