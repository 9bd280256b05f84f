import { type RawData, WebSocket } from 'ws';
import { messageBodyOf } from '../payload.js';
import type { WsClientFrame } from '../servers/ws.js';
import type { Closable, ReceiverEvents, Sender, SystemClient } from './types.js';

function open(url: string, user: string): Promise<WebSocket> {
  const ws = new WebSocket(`${url}?user=${encodeURIComponent(user)}`, { perMessageDeflate: false });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function parse(data: RawData): unknown {
  return JSON.parse(data.toString());
}

function closeSocket(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    ws.once('close', () => resolve());
    ws.close();
  });
}

function write(ws: WebSocket, frame: WsClientFrame): void {
  ws.send(JSON.stringify(frame));
}

/** The bare `ws` baseline's client: JSON frames, nothing else. */
export const wsClient: SystemClient = {
  async receiver(url, user, events: ReceiverEvents): Promise<Closable> {
    const ws = await open(url, user);
    await new Promise<void>((resolve, reject) => {
      ws.once('error', reject);
      ws.on('message', (data) => {
        const frame = parse(data);
        const body = messageBodyOf(frame);
        if (body !== null) events.onBody(body);
        else if ((frame as { type?: unknown }).type === 'joined') resolve();
      });
      write(ws, { type: 'join' });
    });
    ws.on('error', (error) => events.onError(error));
    return { close: () => closeSocket(ws) };
  },

  async sender(url, user): Promise<Sender> {
    const ws = await open(url, user);
    const acks = new Map<number, () => void>();
    let nextId = 0;
    ws.on('message', (data) => {
      const frame = parse(data) as { type?: unknown; id?: unknown };
      if (frame.type !== 'ack' || typeof frame.id !== 'number') return;
      acks.get(frame.id)?.();
      acks.delete(frame.id);
    });
    return {
      send(body) {
        nextId += 1;
        const id = nextId;
        return new Promise<void>((resolve) => {
          acks.set(id, resolve);
          write(ws, { type: 'send', id, body });
        });
      },
      close: () => closeSocket(ws),
    };
  },
};
