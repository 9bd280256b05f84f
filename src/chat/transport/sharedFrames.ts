import type { JSONRPC2 } from '@trpc/server/rpc';
import type { SharedEvent } from '../../fanout/sharedEvent.js';
import { textFrame } from './wsFrames.js';

interface EventEncoding {
  /** Everything after the request id, shared by all subscribers. */
  tail: string;
  frames: Map<string, Buffer>;
}

/** The start of every frame answering request `id`: `{"id":…` and the JSON-RPC marker if asked. */
export function responsePrefix(id: JSONRPC2.RequestId, jsonrpc: '2.0' | undefined): string {
  return `{"id":${JSON.stringify(id)}${jsonrpc ? ',"jsonrpc":"2.0"' : ''}`;
}

/**
 * Room events as subscription frames, encoded once per event and once per distinct request id
 * (in practice once): every member of a room gets the same bytes, as a plain `ws` broadcast would.
 */
export function createSharedFrames(serialize: (data: unknown) => unknown) {
  const encodings = new WeakMap<SharedEvent, EventEncoding>();
  // The members of a room ask for the same event with the same prefix, one after another.
  let last: { event: SharedEvent; prefix: string; frame: Buffer } | null = null;

  const encodingOf = (event: SharedEvent): EventEncoding => {
    let encoding = encodings.get(event);
    if (!encoding) {
      const data = serialize({ id: event.id, data: event.event });
      encoding = {
        tail: `,"result":{"type":"data","id":${JSON.stringify(event.id)},"data":${JSON.stringify(data)}}}`,
        frames: new Map(),
      };
      encodings.set(event, encoding);
    }
    return encoding;
  };

  return {
    /** The event's whole WebSocket frame for the subscription whose responses start `prefix`. */
    frame(event: SharedEvent, prefix: string): Buffer {
      if (last?.event === event && last.prefix === prefix) return last.frame;
      const encoding = encodingOf(event);
      let frame = encoding.frames.get(prefix);
      if (!frame) {
        frame = textFrame(prefix + encoding.tail);
        encoding.frames.set(prefix, frame);
      }
      last = { event, prefix, frame };
      return frame;
    },
  };
}
