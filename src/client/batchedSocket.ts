import { BATCH_PROTOCOL } from '../contract/wire.js';

/** Any WebSocket constructor: the platform's global one, or `ws`'s class on Node 20. */
export type WebSocketImplementation = new (url: string, protocols?: string | string[]) => unknown;

type Listener = (event: unknown) => void;

/** What tRPC's wsLink uses of a WebSocket (the DOM's and `ws`'s both have it). */
interface SocketLike {
  readonly readyState: number;
  readonly protocol: string;
  binaryType: string;
  addEventListener(type: string, listener: Listener): void;
  removeEventListener(type: string, listener: Listener): void;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/**
 * A WebSocket class that asks the chat server for its batched wire mode and hands tRPC's stock
 * wsLink one `message` event per tRPC message, so the link itself stays unchanged: the server
 * then writes everything it has for this client in one event-loop turn as one frame of
 * newline-separated messages, which is cheaper for both ends than a frame per message.
 */
export function batchedWebSocket(Base: WebSocketImplementation): WebSocketImplementation {
  return class BatchedWebSocket {
    static readonly CONNECTING = 0;
    static readonly OPEN = 1;
    static readonly CLOSING = 2;
    static readonly CLOSED = 3;

    private readonly socket: SocketLike;
    /** The listener given for each one registered on the socket, to remove it again. */
    private readonly registered = new Map<Listener, Listener>();

    constructor(url: string) {
      // `Base` is a WebSocket class; its instances have everything SocketLike names.
      this.socket = new Base(url, BATCH_PROTOCOL) as SocketLike;
    }

    get readyState(): number {
      return this.socket.readyState;
    }

    get protocol(): string {
      return this.socket.protocol;
    }

    get binaryType(): string {
      return this.socket.binaryType;
    }

    set binaryType(type: string) {
      this.socket.binaryType = type;
    }

    addEventListener(type: string, listener: Listener): void {
      if (this.registered.has(listener)) return;
      // Listeners see this object as `this` (wsLink answers a PING through it).
      const onEvent: Listener =
        type === 'message'
          ? (event) => {
              for (const message of this.messagesOf(event)) listener.call(this, message);
            }
          : (event) => listener.call(this, event);
      this.registered.set(listener, onEvent);
      this.socket.addEventListener(type, onEvent);
    }

    removeEventListener(type: string, listener: Listener): void {
      const onEvent = this.registered.get(listener);
      if (!onEvent) return;
      this.registered.delete(listener);
      this.socket.removeEventListener(type, onEvent);
    }

    send(data: string): void {
      this.socket.send(data);
    }

    close(code?: number, reason?: string): void {
      this.socket.close(code, reason);
    }

    /** One event per message: a batched frame holds them one per line (JSON has no raw newline). */
    private messagesOf(event: unknown): unknown[] {
      const data = (event as { data?: unknown }).data;
      if (this.socket.protocol !== BATCH_PROTOCOL || typeof data !== 'string') return [event];
      if (!data.includes('\n')) return [event];
      return data.split('\n').map((line) => ({ data: line }));
    }
  };
}
