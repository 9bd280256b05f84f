/**
 * Signs up, follows 'general', sends a message, upvotes it and waits to see both come back through
 * the room's live feed. Run against a server: CHATHUB_URL=http://localhost:8080 node dist/index.js
 */
import { connect, createApiClient, type FollowedRoom, type RouterOutputs } from 'chathub-client';
import { WebSocket } from 'ws';

/** Types inferred from the router: one room of a `rooms.list` page. */
type Room = RouterOutputs['rooms']['list']['rooms'][number];

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
const { rooms }: { rooms: Room[] } = await hub.rooms.list.query();
console.log(`rooms: ${rooms.map((room) => `${room.name} (${room.online} online)`).join(', ')}`);

// Follows the room's live feed, resuming by itself after any outage it can outlast.
const general = hub.followRoom('general');

/** Resolves once the followed room's state passes `check`; fails if the feed ends for good. */
function waitFor(check: (room: FollowedRoom) => boolean, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 10_000);
    const look = (room: FollowedRoom) => {
      if (room.status.state === 'ended') reject(new Error(`feed ended: ${room.status.reason}`));
      if (!check(room)) return;
      clearTimeout(timer);
      stop();
      resolve();
    };
    const stop = general.subscribe(look);
    look(general.getState());
  });
}

try {
  await waitFor((room) => room.status.state === 'live', 'the room to be live');
  const message = await general.send(`hi from ${username}`);
  await general.vote(message.id, 'up');
  await waitFor(
    (room) => room.messages.some((m) => m.id === message.id && m.up === 1 && m.myVote === 'up'),
    'my message with my upvote',
  );
  console.log(`ok ${message.id} up=1`);
} finally {
  await hub.close();
}
