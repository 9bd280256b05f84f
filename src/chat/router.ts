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
import { chatProcedure, createRouter } from '../trpc/init.js';

/** The procedures under `chat.*`: a room's feed, history, messages and what people do with them. */
const chat = createRouter({
  /** Latest messages (or what was missed since `lastEventId`), then every change, live. */
  events: chatProcedure.input(eventsInput).subscription(async ({ ctx, input }) => {
    await ctx.services.rooms.require(input.roomId);
    return ctx.chat.feeds.open({
      roomId: input.roomId,
      viewer: ctx.user,
      lastEventId: input.lastEventId == null ? null : Number(input.lastEventId),
    });
  }),

  history: chatProcedure
    .input(historyInput)
    .query(({ ctx, input }) => ctx.chat.messages.history(ctx.user, input)),

  /** Posts a message; a retry with the same `clientMessageId` answers the first one's message. */
  send: chatProcedure
    .input(sendInput)
    .mutation(({ ctx, input }) => ctx.chat.messages.send(ctx.user, input)),

  vote: chatProcedure
    .input(voteInput)
    .mutation(({ ctx, input }) => ctx.chat.messages.vote(ctx.user, input)),

  /** The author replaces the body of their message. */
  edit: chatProcedure
    .input(editInput)
    .mutation(({ ctx, input }) => ctx.chat.moderation.edit(ctx.user, input)),

  /** The author, or the room's owner, takes a message down for good (a tombstone stays). */
  remove: chatProcedure
    .input(removeInput)
    .mutation(({ ctx, input }) => ctx.chat.moderation.remove(ctx.user, input)),

  /** The room's owner pins a message (listed first) or unpins it. */
  pin: chatProcedure
    .input(pinInput)
    .mutation(({ ctx, input }) => ctx.chat.moderation.pin(ctx.user, input)),

  /** The room's owner marks a message answered, or takes the mark back. */
  markAnswered: chatProcedure
    .input(markAnsweredInput)
    .mutation(({ ctx, input }) => ctx.chat.moderation.markAnswered(ctx.user, input)),

  /** "I am typing": members see it for a few seconds; never stored. */
  typing: chatProcedure
    .input(typingInput)
    .mutation(({ ctx, input }) => ctx.chat.typing.typing(ctx.user, input)),

  /** How far the caller has read the room; `rooms.list` counts what follows as unread. */
  markRead: chatProcedure
    .input(markReadInput)
    .mutation(({ ctx, input }) => ctx.chat.messages.markRead(ctx.user, input)),
});

/** Everything the chat role serves over WebSocket. */
export const chatRouter = createRouter({ chat });

export type ChatRouter = typeof chatRouter;
