import { TRPCClientError } from '@trpc/client';

export interface ErrorDetails {
  /** The tRPC error code, or null when no server answered. */
  code: string | null;
  message: string;
  fieldErrors: Record<string, string[]>;
}

/** Turns any failure into words a person can act on, with per-field messages where given. */
export function describeError(error: unknown): ErrorDetails {
  if (error instanceof TRPCClientError) {
    const data = (error.data ?? {}) as {
      code?: string;
      fieldErrors?: Record<string, string[]> | null;
    };
    if (!data.code) {
      return {
        code: null,
        message: 'Cannot reach the server; check your connection and try again',
        fieldErrors: {},
      };
    }
    return { code: data.code, message: error.message, fieldErrors: data.fieldErrors ?? {} };
  }
  return {
    code: null,
    message: error instanceof Error ? error.message : 'Something went wrong',
    fieldErrors: {},
  };
}

export function isUnauthorized(error: unknown): boolean {
  return describeError(error).code === 'UNAUTHORIZED';
}

/**
 * Failures that may pass: no answer at all (the connection was lost), the server or one of its
 * dependencies briefly unavailable, or a rate limit. Anything else (a missing room, a refused
 * token, invalid input) would fail the same way again.
 */
const RETRYABLE_CODES = new Set([
  'SERVICE_UNAVAILABLE',
  'TOO_MANY_REQUESTS',
  'INTERNAL_SERVER_ERROR',
  'TIMEOUT',
  'BAD_GATEWAY',
  'GATEWAY_TIMEOUT',
  'CLIENT_CLOSED_REQUEST',
]);

export function isRetryable(error: unknown): boolean {
  const { code } = describeError(error);
  return code === null || RETRYABLE_CODES.has(code);
}
