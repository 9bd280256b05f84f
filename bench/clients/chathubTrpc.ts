import { createTRPCClient, createWSClient, type TRPCWebSocketClient, wsLink } from '@trpc/client';
import { WebSocket } from 'ws';
import type { ChatRouter } from '../../src/chat/router.js';
import type { Closable, ReceiverEvents, Sender, SystemClient } from './types.js';

/** Node 20 has no global WebSocket; the stock tRPC client takes the `ws` implementation. */
const NodeWebSocket = WebSocket as unknown as typeof globalThis.WebSocket;

function connect(url: string, token: string) {
  const wsClient: TRPCWebSocketClient = createWSClient({
    url,
    connectionParams: { token },
    WebSocket: NodeWebSocket,
    retryDelayMs: () => 1_000,
  });
  const trpc = createTRPCClient<ChatRouter>({ links: [wsLink({ client: wsClient })] });
  return { wsClient, trpc };
}

/**
 * ChatHub through the stock @trpc/client (createWSClient + wsLink, subscribed to `chat.events`):
 * the `chathub-trpc-client` system, which shows what the stock client costs beside the bare one.
 */
export const chatHubTrpcClient: SystemClient = {
  receiver(url, token, roomId, events: ReceiverEvents): Promise<Closable> {
    const { wsClient, trpc } = connect(url, token);
    const closable: Closable = { close: () => wsClient.close() };
    return new Promise((resolve, reject) => {
      let live = false;
      trpc.chat.events.subscribe(
        { roomId },
        {
          onData({ data }) {
            if (data.type === 'message') events.onBody(data.message.body);
            else if (data.type === 'snapshot' && !live) {
              // The feed joins the room before it reads the snapshot: from here on it is live.
              live = true;
              resolve(closable);
            }
          },
          onError(error) {
            if (live) events.onError(error);
            else {
              void wsClient.close();
              reject(error);
            }
          },
        },
      );
    });
  },

  async sender(url, token, roomId): Promise<Sender> {
    const { wsClient, trpc } = connect(url, token);
    // Opens the socket and authenticates it without spending any of the user's message budget.
    await trpc.chat.history.query({ roomId, limit: 1 });
    return {
      async send(body) {
        await trpc.chat.send.mutate({ roomId, body });
      },
      close: () => wsClient.close(),
    };
  },
};
