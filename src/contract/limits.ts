/** Limits shared by server validation and client-side hints. */
export const LIMITS = {
  usernameMin: 3,
  usernameMax: 32,
  passwordMin: 8,
  passwordMax: 128,
  roomNameMin: 2,
  roomNameMax: 40,
  messageMax: 2000,
  historyPageMax: 100,
  snapshotSize: 50,
  roomPageDefault: 50,
  roomPageMax: 100,
  roomSearchMax: 100,
  roomCursorMax: 512,
  /** Calls per HTTP batch request; the web client splits its batches to fit. */
  httpBatchMax: 20,
  /** Pinned messages a snapshot carries (newest pin first); older pins stay pinned, unlisted. */
  pinnedMax: 20,
  /** Users a presence event names; `online` still counts them all. */
  presenceNamesMax: 50,
  /** A typing signal shows this long unless renewed. */
  typingTtlMs: 5_000,
  /**
   * Clients send at most one typing signal per room this often. The server takes them a little
   * more often (one per 1.5 s per user and room), so that one jitter brings in early is not lost;
   * extra ones are answered but ignored.
   */
  typingIntervalMs: 2_000,
  /** `rooms.list` counts unread messages up to this; clients show "99+" at it. */
  unreadCountMax: 99,
  /** Length of `chat.send`'s `clientMessageId` (letters, digits, `_` and `-`). */
  clientMessageIdMax: 64,
} as const;
