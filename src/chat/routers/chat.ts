import type { TrackedData } from '@trpc/server/unstable-core-do-not-import';
import type { ChatEvent } from '../../contract/events.js';
import { eventsInput, historyInput, sendInput, voteInput } from '../../contract/schemas.js';
import { authedProcedure, createRouter } from '../../trpc/init.js';

/** What a `chat.events` subscriber receives: `{ id, data }`, id being the resume point. */
export type TrackedChatEvent = TrackedData<ChatEvent>;

export const chatRouter = createRouter({
  /** Latest messages (or what was missed since `lastEventId`), then every change, live. */
  events: authedProcedure.input(eventsInput).subscription(async ({ ctx, input }) => {
    await ctx.services.rooms.require(input.roomId);
    return ctx.services.feeds.open({
      roomId: input.roomId,
      viewer: ctx.user,
      lastEventId: input.lastEventId == null ? null : Number(input.lastEventId),
    });
  }),

  history: authedProcedure
    .input(historyInput)
    .query(({ ctx, input }) => ctx.services.chat.history(ctx.user, input)),

  send: authedProcedure
    .input(sendInput)
    .mutation(({ ctx, input }) => ctx.services.chat.send(ctx.user, input)),

  vote: authedProcedure
    .input(voteInput)
    .mutation(({ ctx, input }) => ctx.services.chat.vote(ctx.user, input)),
});
