import { getTRPCErrorFromUnknown, initTRPC, TRPCError } from '@trpc/server';
import { ZodError } from 'zod';
import { DomainError } from '../domain/errors.js';
import type { Context } from './context.js';

export interface ErrorData {
  /** Per-field messages for invalid input, keyed by the field's path ("body", "username"). */
  fieldErrors: Record<string, string[]> | null;
}

const t = initTRPC.context<Context>().create({
  // Stack traces stay in the server log, never in responses.
  isDev: false,
  errorFormatter({ shape, error }) {
    const fieldErrors = error.cause instanceof ZodError ? fieldErrorsOf(error.cause) : null;
    const firstField = fieldErrors && Object.entries(fieldErrors)[0];
    const data: ErrorData & typeof shape.data = { ...shape.data, fieldErrors };
    return {
      ...shape,
      message: publicMessage(error.code, firstField?.[1][0] ?? shape.message),
      data,
    };
  },
});

/** Internal failures keep their detail in the server log; callers get a message they can act on. */
function publicMessage(code: TRPCError['code'], message: string): string {
  return code === 'INTERNAL_SERVER_ERROR'
    ? 'Something went wrong on our side; please try again'
    : message;
}

function fieldErrorsOf(error: ZodError): Record<string, string[]> {
  const fields: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const key = issue.path.join('.') || 'input';
    fields[key] ??= [];
    fields[key].push(issue.message);
  }
  return fields;
}

/**
 * The one translation from a failure to the tRPC error a caller sees, for procedures (through the
 * middleware below) and for what fails after a subscription has started (the transport): a domain
 * failure keeps its code and message, so a dependency outage reaches the client as
 * SERVICE_UNAVAILABLE, which it may retry; anything else is an internal error.
 */
export function toTRPCError(cause: unknown): TRPCError {
  const domain =
    cause instanceof TRPCError && cause.cause instanceof DomainError ? cause.cause : cause;
  if (domain instanceof DomainError) {
    return new TRPCError({ code: domain.code, message: domain.message, cause: domain });
  }
  return getTRPCErrorFromUnknown(cause);
}

const domainErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof DomainError) throw toTRPCError(result.error);
  return result;
});

/**
 * Counts every call that reaches a procedure by its path and how it ended (`ok` or the error code
 * the caller gets). Outermost, so it sees invalid input, missing sessions and domain errors
 * already translated.
 */
const callMetrics = t.middleware(async ({ ctx, path, next }) => {
  const result = await next();
  ctx.services.metrics.procedureFinished(path, result.ok ? 'ok' : result.error.code);
  return result;
});

export const createRouter = t.router;
export const mergeRouters = t.mergeRouters;
export const publicProcedure = t.procedure.use(callMetrics).use(domainErrors);

export const authedProcedure = publicProcedure.use(({ ctx, next }) => {
  const session = ctx.session;
  if (!session || session.expiresAt <= Date.now()) {
    throw new TRPCError({
      code: 'UNAUTHORIZED',
      message: session ? 'Your session has expired; sign in again' : 'Sign in first',
    });
  }
  return next({ ctx: { ...ctx, session, user: session.user } });
});
