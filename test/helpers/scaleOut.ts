import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { type ChatHubConnection, connect, createApiClient } from '../../src/client/index.js';
import { NodeWebSocket, PASSWORD } from './server.js';

/** Signs a new user up through the API and connects both typed clients, as a person would. */
export async function signUpAndConnect(apiUrl: string, name: string): Promise<ChatHubConnection> {
  await createApiClient(apiUrl).auth.signUp.mutate({ username: name, password: PASSWORD });
  return connect({ apiUrl, username: name, password: PASSWORD, WebSocket: NodeWebSocket });
}

/** A database of its own on the suite's MongoDB-protocol server; `drop()` removes it. */
export function scratchDatabase(serverUrl: string, prefix: string) {
  const url = new URL(serverUrl);
  url.pathname = `/${prefix}_${randomBytes(4).toString('hex')}`;
  return {
    url: url.toString(),
    async drop() {
      const mongo = new MongoClient(url.toString());
      try {
        await mongo.db().dropDatabase();
      } finally {
        await mongo.close();
      }
    },
  };
}
