import type { TokenClaims } from '../domain/tokens.js';
import type { Services } from '../services.js';

/** What every procedure sees. Identity comes only from a verified token. */
export interface Context {
  session: TokenClaims | null;
  /** Who to rate-limit when there is no session: the client's address. */
  clientAddress: string;
  /** The Host header the client used, for discovery without a configured URL. */
  requestHost: string | null;
  services: Services;
}

export interface ContextSource {
  token: string | null | undefined;
  clientAddress: string;
  requestHost: string | null;
}

export function createContext(services: Services, source: ContextSource): Context {
  return {
    session: services.tokens.verify(source.token),
    clientAddress: source.clientAddress,
    requestHost: source.requestHost,
    services,
  };
}

/** `Authorization: Bearer <token>` → token. */
export function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match?.[1] ?? null;
}
