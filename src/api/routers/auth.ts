import { credentialsInput } from '../../contract/schemas.js';
import { authedProcedure, createRouter, publicProcedure } from '../../trpc/init.js';

export const authRouter = createRouter({
  signUp: publicProcedure
    .input(credentialsInput)
    .mutation(({ ctx, input }) => ctx.services.auth.signUp(input, ctx.clientAddress)),

  signIn: publicProcedure.input(credentialsInput).mutation(async ({ ctx, input }) => {
    const session = await ctx.services.auth.signIn(input, ctx.clientAddress);
    return { ...session, chatUrl: await ctx.services.discovery.chatUrl(ctx.requestHost) };
  }),

  me: authedProcedure.query(({ ctx }) => ctx.user),

  refresh: authedProcedure.mutation(({ ctx }) => ctx.services.auth.refresh(ctx.user)),
});
