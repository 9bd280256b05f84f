/** Failures the domain reports to callers; the code names match tRPC's error codes. */
export type DomainErrorCode =
  | 'BAD_REQUEST'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'PRECONDITION_FAILED'
  | 'TOO_MANY_REQUESTS'
  | 'SERVICE_UNAVAILABLE';

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DomainError';
  }
}

/**
 * A dependency (the database, pub/sub, discovery) cannot be reached right now. Adapters throw it
 * for connectivity failures so callers get SERVICE_UNAVAILABLE and know a retry may succeed.
 */
export class UnavailableError extends DomainError {
  constructor(what: string, cause?: unknown) {
    super('SERVICE_UNAVAILABLE', `${what} is unavailable right now; try again in a moment`, {
      cause,
    });
    this.name = 'UnavailableError';
  }
}
