import { TRPCClientError } from '@trpc/client';

export interface ErrorDetails {
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
