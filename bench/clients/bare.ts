import { type RawData, WebSocket } from 'ws';
import type { Closable, ReceiverEvents, Sender } from './types.js';

/**
 * The bare `ws` client every system's receivers are built on, so client cost is equal across
 * systems: each text frame is split into its messages, each message is JSON-parsed once and read
 * by the system's wire (a few property reads), and a `message` event's body is counted. Only the
 * wire, a small per-system description of the protocol, differs.
 */

/** Splits one text frame into its parsed messages. */
export type FrameSplitter = (text: string) => unknown[];

export type FrameFormat = 'single' | 'lines' | 'array';

/**
 * How a frame holds messages: one JSON document (tRPC, the `ws` baseline), one per line
 * (Centrifugo merges the replies queued for a client that way), or a JSON array (a batched wire
 * mode may). A frame in `lines` or `array` format may also hold a single message.
 */
export const SPLITTERS: Record<FrameFormat, FrameSplitter> = {
  single: (text) => [JSON.parse(text)],
  lines: (text) => {
    const messages: unknown[] = [];
    let start = 0;
    while (start < text.length) {
      const end = text.indexOf('\n', start);
      const line = end < 0 ? text.slice(start) : text.slice(start, end);
      if (line.length > 0) messages.push(JSON.parse(line));
      start = end < 0 ? text.length : end + 1;
    }
    return messages;
  },
  array: (text) => {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) ? parsed : [parsed];
  },
};

/** What one message means to the client. */
export type Reading =
  | { kind: 'body'; body: string }
  /** The receiver is subscribed and will see every later message (or the sender may send). */
  | { kind: 'live' }
  /** Something to send back: the next handshake step, a pong. */
  | { kind: 'reply'; frame: string }
  | { kind: 'ack'; id: number }
  | { kind: 'nack'; id: number; error: string }
  | { kind: 'error'; error: string };

export interface Wire {
  /** WebSocket subprotocols asked for at the upgrade (a wire mode), if any. */
  protocols?: string[];
  /** Frames sent as soon as the socket is open. */
  hello: string[];
  /** Usable as soon as the socket is open, without waiting for a `live` reading. */
  liveOnOpen?: boolean;
  /** Whole text frames answered before any parsing (keep-alive pings that are not JSON). */
  control?: ReadonlyMap<string, string>;
  split: FrameSplitter;
  read(message: unknown): Reading | null;
}

export interface SenderWire extends Wire {
  /** A send request; its acknowledgement reads as `ack` / `nack` with the same id. */
  request(id: number, body: string): string;
}

/** Ids below this are the wires' own handshake requests; sends count up from here. */
export const FIRST_REQUEST_ID = 100;

/** Properties of a parsed JSON object, or an empty object for anything else. */
export function fields(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

/**
 * What a wire makes of each text frame: a control frame (a keep-alive ping) reads as the reply
 * to send, anything else is split into messages, each read by the wire. Throws on a frame that
 * is not the wire's JSON.
 */
export function frameReader(wire: Wire): (text: string) => (Reading | null)[] {
  const controls = wire.control ?? new Map<string, string>();
  // Control frames are a few characters: looking a whole message frame up in the map would hash
  // it, a cost per frame that only the wires with control frames would pay.
  const longestControl = Math.max(0, ...[...controls.keys()].map((frame) => frame.length));
  return (text) => {
    const control = text.length <= longestControl ? controls.get(text) : undefined;
    if (control !== undefined) return [{ kind: 'reply', frame: control }];
    return wire.split(text).map((message) => wire.read(message));
  };
}

function textOf(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/**
 * A socket driven by a wire: parses frames, answers replies, surfaces the rest. Listeners are
 * attached before the socket opens: a server that speaks first (Socket.IO's open packet) may
 * have its first frame in the same read as the upgrade response.
 */
class BareConnection {
  private closing = false;
  private readonly ready: Promise<void>;
  private live = false;
  private readonly ws: WebSocket;

  private constructor(
    address: string,
    wire: Wire,
    onReading: (reading: Reading) => void,
    onFailure: (error: Error) => void,
  ) {
    let becomeLive!: () => void;
    let failEarly!: (error: Error) => void;
    this.ready = new Promise((resolve, reject) => {
      becomeLive = resolve;
      failEarly = reject;
    });
    const ws = new WebSocket(address, wire.protocols ?? [], { perMessageDeflate: false });
    this.ws = ws;
    const fail = (error: Error) => {
      if (this.closing) return;
      if (this.live) onFailure(error);
      else {
        this.closing = true;
        ws.terminate();
        failEarly(error);
      }
    };
    const readFrame = frameReader(wire);
    ws.on('message', (data) => {
      const text = textOf(data);
      let readings: (Reading | null)[];
      try {
        readings = readFrame(text);
      } catch (error) {
        fail(new Error(`unreadable frame (${String(error)}): ${text.slice(0, 120)}`));
        return;
      }
      for (const reading of readings) {
        if (!reading) continue;
        if (reading.kind === 'reply') ws.send(reading.frame);
        else if (reading.kind === 'live') {
          this.live = true;
          becomeLive();
        } else if (reading.kind === 'error' || (reading.kind === 'nack' && !this.live)) {
          fail(new Error(reading.error));
        } else onReading(reading);
      }
    });
    ws.on('error', fail);
    ws.once('close', (code, reason) => fail(new Error(`closed by the server: ${code} ${reason}`)));
    ws.once('open', () => {
      for (const frame of wire.hello) ws.send(frame);
      if (wire.liveOnOpen) {
        this.live = true;
        becomeLive();
      }
    });
  }

  static async open(
    address: string,
    wire: Wire,
    onReading: (reading: Reading) => void,
    onFailure: (error: Error) => void,
  ): Promise<BareConnection> {
    const connection = new BareConnection(address, wire, onReading, onFailure);
    await connection.ready;
    return connection;
  }

  send(frame: string): void {
    this.ws.send(frame);
  }

  close(): Promise<void> {
    this.closing = true;
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}

/** A room member: resolves once the wire says it is live; then every body goes to `events`. */
export async function bareReceiver(
  address: string,
  wire: Wire,
  events: ReceiverEvents,
): Promise<Closable> {
  const connection = await BareConnection.open(
    address,
    wire,
    (reading) => {
      if (reading.kind === 'body') events.onBody(reading.body);
      else if (reading.kind === 'nack') events.onError(new Error(reading.error));
    },
    (error) => events.onError(error),
  );
  return { close: () => connection.close() };
}

/** A sender: one request per message, resolved by the server's acknowledgement of its id. */
export async function bareSender(address: string, wire: SenderWire): Promise<Sender> {
  const pending = new Map<number, { resolve(): void; reject(error: Error): void }>();
  const settle = (id: number, error: Error | null) => {
    const waiter = pending.get(id);
    if (!waiter) return;
    pending.delete(id);
    if (error) waiter.reject(error);
    else waiter.resolve();
  };
  const connection = await BareConnection.open(
    address,
    wire,
    (reading) => {
      if (reading.kind === 'ack') settle(reading.id, null);
      else if (reading.kind === 'nack') settle(reading.id, new Error(reading.error));
    },
    (error) => {
      for (const id of [...pending.keys()]) settle(id, error);
    },
  );
  let nextId = FIRST_REQUEST_ID;
  return {
    send(body) {
      const id = nextId++;
      return new Promise<void>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        connection.send(wire.request(id, body));
      });
    },
    close: () => connection.close(),
  };
}
