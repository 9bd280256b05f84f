import { authedProcedure, createRouter } from '../../trpc/init.js';

export const discoveryRouter = createRouter({
  /** A chat server to (re)connect to; clients ask again on every reconnect. */
  chatUrl: authedProcedure.query(({ ctx }) => ctx.services.discovery.chatUrl(ctx.requestHost)),
});
