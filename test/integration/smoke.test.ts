import { afterAll, beforeAll, expect, it } from 'vitest';
import { EventLog } from '../helpers/events.js';
import { startTestServer, type TestServer, uniqueName } from '../helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

it('delivers a message over a subscription', async () => {
  const alice = await server.user(uniqueName('alice'));
  const log = EventLog.open(alice, 'general');
  await log.waitFor(() => log.received.some((r) => r.event.type === 'snapshot'), 'snapshot');
  await alice.chat.chat.send.mutate({ roomId: 'general', body: 'hello' });
  await log.waitFor(() => log.messages().some((m) => m.body === 'hello'), 'message');
  expect(log.online()).toBe(1);
});
