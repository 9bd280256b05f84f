import { chatUrlInput } from '../../contract/schemas.js';
import { authedProcedure, createRouter } from '../../trpc/init.js';

export const discoveryRouter = createRouter({
  /** A chat server to (re)connect to; clients ask again on every reconnect, naming the one lost. */
  chatUrl: authedProcedure
    .input(chatUrlInput)
    .query(({ ctx, input }) => ctx.services.discovery.chatUrl(ctx.requestHost, input?.avoid)),
});
