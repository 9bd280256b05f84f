import { initTRPC, TRPCError } from '@trpc/server';
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

/** Turns the domain's failures into tRPC errors with the same code and message. */
const domainErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof DomainError) {
    const { code, message } = result.error.cause;
    throw new TRPCError({ code, message, cause: result.error.cause });
  }
  return result;
});

export const createRouter = t.router;
export const mergeRouters = t.mergeRouters;
export const publicProcedure = t.procedure.use(domainErrors);

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
