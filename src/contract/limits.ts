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
} as const;
