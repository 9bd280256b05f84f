import { credentialsInput } from '../../contract/schemas.js';
import { DomainError } from '../../domain/errors.js';
import { authedProcedure, createRouter, publicProcedure } from '../../trpc/init.js';

/** Sign-up and sign-in attempts are limited per client address, against password guessing. */
const limitedByAddress = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.services.limits.auth.tryTake(ctx.clientAddress)) {
    throw new DomainError('TOO_MANY_REQUESTS', 'Too many attempts; wait a minute and try again');
  }
  return next();
});

export const authRouter = createRouter({
  signUp: limitedByAddress
    .input(credentialsInput)
    .mutation(({ ctx, input }) => ctx.services.auth.signUp(input)),

  signIn: limitedByAddress.input(credentialsInput).mutation(async ({ ctx, input }) => {
    const session = await ctx.services.auth.signIn(input);
    return { ...session, chatUrl: await ctx.services.discovery.chatUrl(ctx.requestHost) };
  }),

  me: authedProcedure.query(({ ctx }) => ctx.user),

  refresh: authedProcedure.mutation(({ ctx }) => ctx.services.auth.refresh(ctx.user)),
});
