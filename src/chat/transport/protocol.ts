import { TRPCError } from '@trpc/server';
import { parseConnectionParamsFromUnknown } from '@trpc/server/http';

/** One request of a frame, with the id its answer must carry. */
export interface IncomingRequest {
  id: string | number;
  /** `subscription.stop` ends a subscription and is not answered. */
  stop: boolean;
  raw: unknown;
}

/**
 * The longest string id a request may carry. Every answer and every room event for a subscription
 * repeats its id, and room events are encoded once per distinct id: a long id would multiply the
 * server's work for each event. The stock client's ids are small numbers.
 */
export const MAX_ID_LENGTH = 128;

/** The frame's JSON, or undefined when it is not JSON. */
export function parseFrame(text: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) };
  } catch {
    return undefined;
  }
}

/**
 * The requests a frame carries (one, or a batch), or why it cannot be answered: an empty batch
 * asks for nothing, and a request without an id an answer could carry back (a finite number, or
 * a string of at most MAX_ID_LENGTH characters) cannot be answered. Such frames close the
 * connection instead: the client has lost track of its calls, or was never speaking tRPC.
 */
export function requestsIn(frame: unknown): { requests: IncomingRequest[] } | { invalid: string } {
  const items = Array.isArray(frame) ? frame : [frame];
  if (items.length === 0) return { invalid: 'an empty batch asks for nothing' };
  const requests: IncomingRequest[] = [];
  for (const raw of items) {
    const { id, method } = (typeof raw === 'object' && raw !== null ? raw : {}) as {
      id?: unknown;
      method?: unknown;
    };
    if (!isAnswerableId(id)) {
      return {
        invalid: `request ids must be numbers or strings of ${MAX_ID_LENGTH} characters at most`,
      };
    }
    requests.push({ id, stop: method === 'subscription.stop', raw });
  }
  return { requests };
}

function isAnswerableId(id: unknown): id is string | number {
  if (typeof id === 'string') return id.length <= MAX_ID_LENGTH;
  // JSON numbers past ~1.8e308 parse as Infinity, which JSON.stringify writes back as null.
  return typeof id === 'number' && Number.isFinite(id);
}

/** The JSON-RPC marker a request asked for, echoed in its answer. */
export function jsonrpcOf(raw: unknown): '2.0' | undefined {
  return typeof raw === 'object' && raw !== null && (raw as { jsonrpc?: unknown }).jsonrpc === '2.0'
    ? '2.0'
    : undefined;
}

/** A `?connectionParams=1` connection's first frame: `{ method: 'connectionParams', data }`. */
export function connectionParamsOf(message: unknown): Record<string, string | undefined> | null {
  if (
    typeof message !== 'object' ||
    message === null ||
    (message as { method?: unknown }).method !== 'connectionParams'
  ) {
    throw new TRPCError({
      code: 'PARSE_ERROR',
      message: 'The first frame must carry connectionParams',
    });
  }
  return parseConnectionParamsFromUnknown((message as { data?: unknown }).data);
}

/** The client resends the last tracked id it saw; the procedure reads it from its input. */
export function withLastEventId(input: unknown, lastEventId: string | undefined): unknown {
  if (lastEventId === undefined) return input;
  if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
    return { ...input, lastEventId };
  }
  return input ?? { lastEventId };
}
