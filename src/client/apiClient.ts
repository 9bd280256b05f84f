import { createTRPCClient, httpLink, type TRPCClient } from '@trpc/client';
import type { ApiRouter } from '../appRouter.js';

export type ApiClient = TRPCClient<ApiRouter>;

/** A token source read on every request, so refreshed tokens are picked up. */
export type TokenSource = () => string | null;

export function bearerHeaders(token: TokenSource): () => Record<string, string> {
  return () => {
    const current = token();
    const headers: Record<string, string> = current ? { authorization: `Bearer ${current}` } : {};
    return headers;
  };
}

export function trpcUrl(apiUrl: string): string {
  return `${apiUrl.replace(/\/$/, '')}/trpc`;
}

/** Typed client of the API role alone (HTTP): auth, rooms, discovery; e.g. to sign up. */
export function createApiClient(apiUrl: string, token: TokenSource = () => null): ApiClient {
  return createTRPCClient<ApiRouter>({
    links: [httpLink({ url: trpcUrl(apiUrl), headers: bearerHeaders(token) })],
  });
}
