import { WebSocket } from 'ws';
import { BATCH_PROTOCOL } from '../../src/contract/wire.js';
import { Waiters } from './wait.js';

export interface RawResponse {
  id: string | number | null;
  /** Set on server-initiated notices, such as `reconnect`. */
  method?: string;
  result?: { type: string; id?: string; data?: unknown };
  error?: {
    message: string;
    code: number;
    data: { code: string; fieldErrors?: Record<string, string[]> | null };
  };
}

export interface RawSocketOptions {
  /** Ask for the batched wire mode: frames may hold several messages, one per line. */
  batched?: boolean;
}

/** A bare WebSocket speaking the tRPC wire protocol, for inputs the typed client cannot send. */
export class RawSocket {
  readonly responses: RawResponse[] = [];
  /** Every text frame as it arrived (keep-alive frames included). */
  readonly frames: string[] = [];
  closed: { code: number } | null = null;
  private readonly waiters = new Waiters();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const text = data.toString();
      this.frames.push(text);
      if (text === 'PING' || text === 'PONG') return;
      const messages = ws.protocol === BATCH_PROTOCOL ? text.split('\n') : [text];
      for (const message of messages) this.responses.push(JSON.parse(message) as RawResponse);
      this.waiters.notify();
    });
    ws.on('close', (code) => {
      this.closed = { code };
      this.waiters.notify();
    });
  }

  static async open(
    wsUrl: string,
    token: string | null,
    { batched = false }: RawSocketOptions = {},
  ): Promise<RawSocket> {
    const ws = new WebSocket(`${wsUrl}?connectionParams=1`, batched ? [BATCH_PROTOCOL] : []);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.send(JSON.stringify({ method: 'connectionParams', data: token ? { token } : {} }));
    return new RawSocket(ws);
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  request(
    id: number,
    method: 'query' | 'mutation' | 'subscription',
    path: string,
    input: unknown,
  ): void {
    this.send({ id, method, params: { path, input } });
  }

  async response(id: string | number | null, timeoutMs = 5_000): Promise<RawResponse> {
    await this.until(() => this.responses.some((r) => r.id === id), `response ${id}`, timeoutMs);
    const found = this.responses.find((r) => r.id === id);
    if (!found) throw new Error('unreachable');
    return found;
  }

  until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
    return this.waiters.until(
      condition,
      () => `${what}: ${JSON.stringify(this.responses)}`,
      timeoutMs,
    );
  }

  close(): void {
    this.ws.close();
  }
}
