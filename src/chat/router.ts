import {
  editInput,
  eventsInput,
  historyInput,
  markAnsweredInput,
  markReadInput,
  pinInput,
  removeInput,
  sendInput,
  typingInput,
  voteInput,
} from '../contract/schemas.js';
import { authedProcedure, createRouter } from '../trpc/init.js';

/** The procedures under `chat.*`: a room's feed, history, messages and what people do with them. */
const chat = createRouter({
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
    .query(({ ctx, input }) => ctx.services.messages.history(ctx.user, input)),

  /** Posts a message; a retry with the same `clientMessageId` answers the first one's message. */
  send: authedProcedure
    .input(sendInput)
    .mutation(({ ctx, input }) => ctx.services.messages.send(ctx.user, input)),

  vote: authedProcedure
    .input(voteInput)
    .mutation(({ ctx, input }) => ctx.services.messages.vote(ctx.user, input)),

  /** The author replaces the body of their message. */
  edit: authedProcedure
    .input(editInput)
    .mutation(({ ctx, input }) => ctx.services.moderation.edit(ctx.user, input)),

  /** The author, or the room's owner, takes a message down for good (a tombstone stays). */
  remove: authedProcedure
    .input(removeInput)
    .mutation(({ ctx, input }) => ctx.services.moderation.remove(ctx.user, input)),

  /** The room's owner pins a message (listed first) or unpins it. */
  pin: authedProcedure
    .input(pinInput)
    .mutation(({ ctx, input }) => ctx.services.moderation.pin(ctx.user, input)),

  /** The room's owner marks a message answered, or takes the mark back. */
  markAnswered: authedProcedure
    .input(markAnsweredInput)
    .mutation(({ ctx, input }) => ctx.services.moderation.markAnswered(ctx.user, input)),

  /** "I am typing": members see it for a few seconds; never stored. */
  typing: authedProcedure
    .input(typingInput)
    .mutation(({ ctx, input }) => ctx.services.typing.typing(ctx.user, input)),

  /** How far the caller has read the room; `rooms.list` counts what follows as unread. */
  markRead: authedProcedure
    .input(markReadInput)
    .mutation(({ ctx, input }) => ctx.services.messages.markRead(ctx.user, input)),
});

/** Everything the chat role serves over WebSocket. */
export const chatRouter = createRouter({ chat });

export type ChatRouter = typeof chatRouter;
