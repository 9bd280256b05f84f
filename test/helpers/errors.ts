import { TRPCClientError } from '@trpc/client';

/** The tRPC error code and message a failed call carried (throws if it did not fail that way). */
export async function failure(call: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await call;
  } catch (error) {
    if (error instanceof TRPCClientError) {
      const data = error.data as { code?: string } | undefined;
      return { code: data?.code ?? 'UNKNOWN', message: error.message };
    }
    throw error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}
