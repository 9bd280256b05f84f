import {
  MongoBulkWriteError,
  MongoClientClosedError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoServerClosedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
  type WriteError,
} from 'mongodb';
import { UnavailableError } from '../../domain/errors.js';

const DUPLICATE_KEY = 11000;

/**
 * Connectivity failures surface as UnavailableError (SERVICE_UNAVAILABLE to callers, who may
 * retry) rather than as internal errors; the driver reconnects on its own meanwhile.
 */
export function unavailableWhenUnreachable<T extends object>(repository: T): T {
  const guarded: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(repository)) {
    guarded[name] =
      typeof method === 'function'
        ? async (...args: unknown[]) => {
            try {
              return await method.apply(repository, args);
            } catch (error) {
              throw isUnreachable(error) ? new UnavailableError('The database', error) : error;
            }
          }
        : method;
  }
  return guarded as T;
}

function isUnreachable(error: unknown): boolean {
  return (
    error instanceof MongoNetworkError ||
    error instanceof MongoServerSelectionError ||
    error instanceof MongoNotConnectedError ||
    error instanceof MongoTopologyClosedError ||
    // What operations still in flight get when their client is closed (for example replaced).
    error instanceof MongoClientClosedError ||
    error instanceof MongoServerClosedError
  );
}

export function isDuplicateKey(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === DUPLICATE_KEY;
}

/** Runs `write`, treating a duplicate-key error as "someone else already did it". */
export async function ignoringDuplicate(write: Promise<unknown>): Promise<void> {
  try {
    await write;
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
  }
}

/** The index of the first operation of an ordered bulk write that hit a duplicate key, if that is what stopped it. */
export function firstDuplicateIn(error: unknown): number | null {
  const [first] = writeErrorsOf(error);
  return first?.code === DUPLICATE_KEY ? first.index : null;
}

function writeErrorsOf(error: unknown): WriteError[] {
  return error instanceof MongoBulkWriteError ? [error.writeErrors].flat() : [];
}

/**
 * What made a bulk write fail: a bulk write that failed as a whole (the server unreachable, say)
 * carries the error in `errorResponse`, which is then what callers must see.
 */
export function failureOf(error: unknown): unknown {
  const whole = error instanceof MongoBulkWriteError && writeErrorsOf(error).length === 0;
  return whole && error.errorResponse instanceof Error ? error.errorResponse : error;
}

/** Awaits a bulk write that may hit duplicate keys; returns the indexes of the operations that did. */
export async function duplicatesIn(write: Promise<unknown>): Promise<number[]> {
  try {
    await write;
    return [];
  } catch (error) {
    const errors = writeErrorsOf(error);
    if (errors.length === 0 || errors.some((each) => each.code !== DUPLICATE_KEY)) {
      throw failureOf(error);
    }
    return errors.map((each) => each.index);
  }
}
