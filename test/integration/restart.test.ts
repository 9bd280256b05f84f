import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connect, createApiClient } from '../../src/client/index.js';
import { spawnServer } from '../helpers/process.js';
import { NodeWebSocket, PASSWORD } from '../helpers/server.js';

const dataDir = mkdtempSync(join(tmpdir(), 'chathub-restart-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('the embedded store across a process restart', () => {
  it('keeps users, sessions, rooms, messages and votes', async () => {
    // No JWT_SECRET: the first start generates one and keeps it in the data dir.
    const first = await spawnServer({ DATA_DIR: dataDir });
    const apiUrl = `http://127.0.0.1:${first.port}`;
    const api = createApiClient(apiUrl);
    await api.auth.signUp.mutate({ username: 'kim', password: PASSWORD });
    await api.auth.signUp.mutate({ username: 'lee', password: PASSWORD });
    const kim = await connect({
      apiUrl,
      username: 'kim',
      password: PASSWORD,
      WebSocket: NodeWebSocket,
    });
    const lee = await connect({
      apiUrl,
      username: 'lee',
      password: PASSWORD,
      WebSocket: NodeWebSocket,
    });
    const room = await kim.rooms.create.mutate({ name: 'Persistent Room' });
    const message = await kim.chat.send.mutate({ roomId: room.id, body: 'remember me' });
    await lee.chat.vote.mutate({ messageId: message.id, vote: 'down' });
    const oldToken = kim.session().token;
    await Promise.all([kim.close(), lee.close()]);
    expect(await first.stop('SIGTERM')).toBe(0);
    expect(statSync(join(dataDir, 'jwt-secret')).mode & 0o777).toBe(0o600);

    const second = await spawnServer({ DATA_DIR: dataDir });
    try {
      const secondUrl = `http://127.0.0.1:${second.port}`;
      expect(await createApiClient(secondUrl, () => oldToken).auth.me.query()).toMatchObject({
        username: 'kim',
      });
      const { rooms } = await createApiClient(secondUrl).rooms.list.query();
      expect(rooms.map((r) => r.id)).toEqual(['general', 'persistent-room']);
      const leeAgain = await connect({
        apiUrl: secondUrl,
        username: 'lee',
        password: PASSWORD,
        WebSocket: NodeWebSocket,
      });
      const history = await leeAgain.chat.history.query({ roomId: room.id });
      expect(history.messages).toEqual([{ ...message, down: 1, myVote: 'down' }]);
      await leeAgain.close();
    } finally {
      expect(await second.stop('SIGTERM')).toBe(0);
    }
  });

  it('stops with a message naming the variable when the configuration is invalid', async () => {
    await expect(spawnServer({ DATA_DIR: dataDir, ROLE: 'everything' })).rejects.toThrow(
      /ROLE: Invalid option: expected one of "api"\|"chat"\|"all"/,
    );
  });
});
