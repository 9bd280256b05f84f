import { z } from 'zod';
import { LIMITS } from './limits.js';
import { VOTE_VALUES } from './models.js';
import { hasVisibleText, usesAllowedScripts } from './text.js';

export type { VoteValue } from './models.js';

export const usernameSchema = z
  .string()
  .trim()
  .min(LIMITS.usernameMin, `Username must be at least ${LIMITS.usernameMin} characters`)
  .max(LIMITS.usernameMax, `Username must be at most ${LIMITS.usernameMax} characters`)
  .regex(/^[A-Za-z0-9_.-]+$/, 'Username may only contain letters, digits, "_", "." and "-"');

export const passwordSchema = z
  .string()
  .min(LIMITS.passwordMin, `Password must be at least ${LIMITS.passwordMin} characters`)
  .max(LIMITS.passwordMax, `Password must be at most ${LIMITS.passwordMax} characters`);

export const credentialsInput = z.object({
  username: usernameSchema,
  password: passwordSchema,
});
export type CredentialsInput = z.infer<typeof credentialsInput>;

export const roomIdSchema = z
  .string()
  .min(1, 'Room id is required')
  .max(64, 'Room id is too long')
  .regex(/^[a-z0-9-]+$/, 'Room id may only contain lowercase letters, digits and "-"');

const roomNameSchema = z
  .string()
  .trim()
  .min(LIMITS.roomNameMin, `Room name must be at least ${LIMITS.roomNameMin} characters`)
  .max(LIMITS.roomNameMax, `Room name must be at most ${LIMITS.roomNameMax} characters`)
  .regex(
    /^[\p{L}\p{N}][\p{L}\p{M}\p{N} _.-]*$/u,
    'Room name may contain letters, digits, spaces, "_", "." and "-", and must start with a letter or digit',
  )
  .refine(hasVisibleText, 'Room name must contain a visible letter or digit')
  .refine(
    usesAllowedScripts,
    'Room name mixes scripts that can look alike (such as Latin with Cyrillic or Greek letters); use one script',
  );

export const createRoomInput = z.object({ name: roomNameSchema });
export type CreateRoomInput = z.infer<typeof createRoomInput>;

export const listRoomsInput = z
  .object({
    /** `nextCursor` from the previous page; omit it for the first page. */
    cursor: z.string().max(LIMITS.roomCursorMax, 'Page cursor is too long').nullish(),
    limit: z
      .number()
      .int()
      .min(1, 'Ask for at least 1 room')
      .max(LIMITS.roomPageMax, `At most ${LIMITS.roomPageMax} rooms per page`)
      .default(LIMITS.roomPageDefault),
    /** Rooms whose name starts with this, ignoring case and width (see `roomNameKey`). */
    query: z
      .string()
      .max(LIMITS.roomSearchMax, `Search text must be at most ${LIMITS.roomSearchMax} characters`)
      .optional(),
  })
  .prefault({});
export type ListRoomsInput = z.infer<typeof listRoomsInput>;

export const getRoomInput = z.object({ id: roomIdSchema });

export const messageIdSchema = z
  .string()
  .regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'Message id must be a 26-character ULID');

/** Decimal room sequence number carried as the tRPC `tracked()` event id. */
export const eventIdSchema = z.string().regex(/^\d{1,15}$/, 'Event id must be a decimal number');

export const eventsInput = z.object({
  roomId: roomIdSchema,
  lastEventId: eventIdSchema.nullish(),
});
export type EventsInput = z.infer<typeof eventsInput>;

export const historyInput = z.object({
  roomId: roomIdSchema,
  before: messageIdSchema.optional(),
  limit: z.number().int().min(1).max(LIMITS.historyPageMax).default(LIMITS.snapshotSize),
});
export type HistoryInput = z.infer<typeof historyInput>;

/** A message body, as `chat.send` and `chat.edit` take it: trimmed, visible, bounded. */
export const messageBodySchema = z
  .string()
  .trim()
  .refine(hasVisibleText, 'Message cannot be empty')
  .max(LIMITS.messageMax, `Message must be at most ${LIMITS.messageMax} characters`);

/** A client-generated id for one send, so that a retry never posts twice (like Matrix's txnId). */
export const clientMessageIdSchema = z
  .string()
  .min(1, 'Client message id cannot be empty')
  .max(
    LIMITS.clientMessageIdMax,
    `Client message id must be at most ${LIMITS.clientMessageIdMax} characters`,
  )
  .regex(/^[A-Za-z0-9_-]+$/, 'Client message id may only contain letters, digits, "_" and "-"');

export const sendInput = z.object({
  roomId: roomIdSchema,
  body: messageBodySchema,
  /**
   * Unique per author and room: a retry with the same id returns the message the first attempt
   * posted instead of posting it again.
   */
  clientMessageId: clientMessageIdSchema.optional(),
});
export type SendInput = z.infer<typeof sendInput>;

export const editInput = z.object({
  messageId: messageIdSchema,
  body: messageBodySchema,
});
export type EditInput = z.infer<typeof editInput>;

export const removeInput = z.object({ messageId: messageIdSchema });
export type RemoveInput = z.infer<typeof removeInput>;

export const pinInput = z.object({ messageId: messageIdSchema, pinned: z.boolean() });
export type PinInput = z.infer<typeof pinInput>;

export const markAnsweredInput = z.object({ messageId: messageIdSchema, answered: z.boolean() });
export type MarkAnsweredInput = z.infer<typeof markAnsweredInput>;

export const typingInput = z.object({ roomId: roomIdSchema });
export type TypingInput = z.infer<typeof typingInput>;

export const markReadInput = z.object({
  roomId: roomIdSchema,
  /** The id of the last event read (a `chat.events` id); a read position never moves back. */
  eventId: eventIdSchema,
});
export type MarkReadInput = z.infer<typeof markReadInput>;

export const voteValueSchema = z.enum(VOTE_VALUES);

export const voteInput = z.object({
  messageId: messageIdSchema,
  vote: voteValueSchema,
});
export type VoteInput = z.infer<typeof voteInput>;

export const chatUrlInput = z
  .object({
    /** The chat server the client just lost, to be avoided while another is live. */
    avoid: z.string().max(2048).optional(),
  })
  .optional();
export type ChatUrlInput = z.infer<typeof chatUrlInput>;
