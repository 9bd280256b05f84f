import { LIMITS } from '../../contract/limits.js';
import type { MessageRepository, RoomSnapshot } from '../store.js';
import type { Collections } from './collections.js';
import type { Committer } from './commit.js';
import {
  type MessageDoc,
  readMarkKey,
  toMessage,
  toMessageView,
  type VoteDoc,
  voteKey,
} from './documents.js';
import { seqOf } from './effects.js';
import { entriesAfter } from './log.js';

/** Re-reads a snapshot that raced with a write at most this many times (see `snapshot`). */
const MAX_SNAPSHOT_ATTEMPTS = 5;

export type MessageReads = Pick<
  MessageRepository,
  'snapshot' | 'page' | 'head' | 'eventsAfter' | 'get' | 'unread'
>;

/**
 * The room a message is in, by its id alone (votes and changes name only the message), or null
 * when there is no such message.
 */
export async function roomOfMessage(c: Collections, messageId: string): Promise<string | null> {
  const located = await c.messageRooms.findOne({ _id: messageId });
  return located?.roomId ?? null;
}

/** What readers ask of a room: its snapshot, history pages, log and unread counts. */
export function readsOf(c: Collections, { settle }: Committer): MessageReads {
  const { messages, votes, events, readMarks } = c;

  /** Whether any part of `doc` was set by an entry after `head`. */
  const changedAfter = (doc: MessageDoc, head: number) =>
    (['counts', 'body', 'pin', 'answer'] as const).some((kind) => seqOf(doc, kind) > head);

  /** The viewer's votes on `docs`, all in one room's range of vote keys. */
  const votesOf = (roomId: string, docs: MessageDoc[], viewerId: string): Promise<VoteDoc[]> => {
    const keys = new Set(docs.map((doc) => voteKey(roomId, doc._id, viewerId)));
    return keys.size === 0
      ? Promise.resolve([])
      : votes.find({ _id: { $in: [...keys] } }).toArray();
  };

  /** `docs` as MessageViews for the viewer whose votes are `mine`, in the order given. */
  const viewsOf = (docs: MessageDoc[], mine: VoteDoc[]) => {
    const byMessage = new Map(mine.map((vote) => [vote.messageId, vote.value]));
    return docs.map((doc) => toMessageView(doc, byMessage.get(doc._id) ?? 0));
  };

  /** Newest first, one past `limit` so the caller can tell whether more exist. */
  const newestFirst = (roomId: string, before: string | undefined, limit: number, head?: number) =>
    messages
      .find({
        roomId,
        ...(before === undefined ? {} : { _id: { $lt: before } }),
        ...(head === undefined ? {} : { seq: { $lte: head } }),
      })
      .sort({ _id: -1 })
      .limit(limit + 1)
      .toArray();

  return {
    async snapshot(roomId, limit, viewerId): Promise<RoomSnapshot> {
      for (let attempt = 1; ; attempt++) {
        const head = await settle(roomId);
        if (head === null) return { head: 0, messages: [], hasMore: false, pinned: [] };
        const [docs, pinnedDocs] = await Promise.all([
          newestFirst(roomId, undefined, limit, head),
          messages
            .find({ roomId, pinned: true })
            .sort({ pinSeq: -1 })
            .limit(LIMITS.pinnedMax)
            .toArray(),
        ]);
        const page = docs.slice(0, limit);
        const mine = await votesOf(roomId, [...page, ...pinnedDocs], viewerId);
        // A write committed while we read may already show in a message or a vote: then what
        // we read is newer than `head`. Read again (rarely needed); if writes keep winning, the
        // newer state is still safe, as the events after `head` carry absolute values.
        const newer =
          [...page, ...pinnedDocs].some((doc) => changedAfter(doc, head)) ||
          mine.some((vote) => vote.seq > head);
        if (!newer || attempt >= MAX_SNAPSHOT_ATTEMPTS) {
          return {
            head,
            messages: viewsOf(page, mine).reverse(),
            hasMore: docs.length > limit,
            pinned: viewsOf(pinnedDocs, mine),
          };
        }
      }
    },

    async page(roomId, before, limit, viewerId) {
      const docs = await newestFirst(roomId, before, limit);
      const page = docs.slice(0, limit);
      const mine = await votesOf(roomId, page, viewerId);
      return { messages: viewsOf(page, mine).reverse(), hasMore: docs.length > limit };
    },

    async head(roomId) {
      // Settled, so the head is the latest committed entry and everything up to it is applied.
      return (await settle(roomId)) ?? 0;
    },

    eventsAfter(roomId, seq, limit) {
      return entriesAfter(events, roomId, seq, limit);
    },

    async get(messageId) {
      const roomId = await roomOfMessage(c, messageId);
      const doc = roomId === null ? null : await messages.findOne({ roomId, _id: messageId });
      return doc && toMessage(doc);
    },

    async unread(userId, roomIds, max) {
      const marks = await Promise.all(
        roomIds.map((roomId) => readMarks.findOne({ _id: readMarkKey(userId, roomId) })),
      );
      const readUpTo = new Map(marks.flatMap((mark) => (mark ? [[mark.roomId, mark.seq]] : [])));
      const counts = await Promise.all(
        roomIds.map(async (roomId): Promise<[string, number]> => {
          const unreadDocs = await messages
            .find(
              {
                roomId,
                seq: { $gt: readUpTo.get(roomId) ?? 0 },
                removed: { $ne: true },
                'author.id': { $ne: userId },
              },
              { projection: { _id: 1 } },
            )
            .limit(max)
            .toArray();
          return [roomId, unreadDocs.length];
        }),
      );
      return new Map(counts);
    },
  };
}
