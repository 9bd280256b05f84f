import { afterEach, describe, expect, it, vi } from 'vitest';
import { batchedWebSocket } from '../../src/client/batchedSocket.js';
import { createChatHubLinks } from '../../src/client/links.js';
import { BATCH_PROTOCOL } from '../../src/contract/wire.js';
import { pollUntil } from '../helpers/wait.js';

type Listener = (this: unknown, event: unknown) => void;

/** A WebSocket stand-in: records how it was made and lets the test play the server. */
class FakeSocket {
  static made: FakeSocket[] = [];
  readyState = 0;
  protocol = '';
  binaryType = 'blob';
  readonly sent: string[] = [];
  private readonly listeners = new Map<string, Set<Listener>>();

  constructor(
    readonly url: string,
    readonly protocols?: string | string[],
  ) {
    FakeSocket.made.push(this);
  }
  addEventListener(type: string, listener: Listener): void {
    const set = this.listeners.get(type) ?? new Set();
    set.add(listener);
    this.listeners.set(type, set);
  }
  removeEventListener(type: string, listener: Listener): void {
    this.listeners.get(type)?.delete(listener);
  }
  send(data: string): void {
    this.sent.push(data);
  }
  close(): void {
    this.readyState = 3;
  }
  emit(type: string, event: unknown): void {
    for (const listener of this.listeners.get(type) ?? []) listener.call(this, event);
  }
}

afterEach(() => {
  FakeSocket.made = [];
  vi.unstubAllGlobals();
});

/** The wrapper as wsLink sees it. */
interface Wrapped {
  readonly protocol: string;
  addEventListener(type: string, listener: Listener): void;
  removeEventListener(type: string, listener: Listener): void;
  send(data: string): void;
}
const open = (url = 'ws://chat.test/ws') => {
  const Wrapper = batchedWebSocket(FakeSocket);
  const socket = new Wrapper(url) as Wrapped;
  const fake = FakeSocket.made.at(-1) as FakeSocket;
  return { socket, fake };
};

describe('batchedWebSocket', () => {
  it('asks for the batched wire mode', () => {
    const { fake } = open();
    expect(fake.protocols).toBe(BATCH_PROTOCOL);
  });

  it('hands each message of a batched frame to the listener, with itself as `this`', () => {
    const { socket, fake } = open();
    fake.protocol = BATCH_PROTOCOL;
    const seen: { data: unknown; self: unknown }[] = [];
    socket.addEventListener('message', function (this: unknown, event) {
      seen.push({ data: (event as { data: unknown }).data, self: this });
    });
    fake.emit('message', { data: '{"id":1}\n{"id":2}\n{"id":3}' });
    fake.emit('message', { data: 'PING' });
    expect(seen.map((s) => s.data)).toEqual(['{"id":1}', '{"id":2}', '{"id":3}', 'PING']);
    expect(seen.every((s) => s.self === socket)).toBe(true);
  });

  it('splits nothing when the server did not choose the batched mode', () => {
    const { socket, fake } = open();
    const seen: unknown[] = [];
    socket.addEventListener('message', (event) => seen.push((event as { data: unknown }).data));
    fake.emit('message', { data: 'a\nb' });
    expect(seen).toEqual(['a\nb']);
  });

  it('removes a listener it was given, once', () => {
    const { socket, fake } = open();
    const seen: unknown[] = [];
    const listener: Listener = (event) => seen.push(event);
    socket.addEventListener('close', listener);
    socket.addEventListener('close', listener);
    fake.emit('close', 'first');
    socket.removeEventListener('close', listener);
    fake.emit('close', 'second');
    expect(seen).toEqual(['first']);
  });
});

describe('createChatHubLinks', () => {
  const links = (wire?: 'batched' | 'stock') =>
    createChatHubLinks({
      apiUrl: 'http://api.test',
      token: () => 't',
      chatUrl: async () => 'ws://chat.test/ws',
      ...(wire ? { wire } : {}),
    });

  it("asks the platform's WebSocket for the batched mode by default", async () => {
    vi.stubGlobal('WebSocket', FakeSocket);
    const { socket } = links();
    await pollUntil(() => FakeSocket.made.length > 0);
    expect(FakeSocket.made[0]?.protocols).toBe(BATCH_PROTOCOL);
    socket.close();
  });

  it('speaks the stock protocol when told to', async () => {
    vi.stubGlobal('WebSocket', FakeSocket);
    const { socket } = links('stock');
    await pollUntil(() => FakeSocket.made.length > 0);
    expect(FakeSocket.made[0]?.protocols).toBeUndefined();
    socket.close();
  });
});
