import { setTimeout as sleep } from 'node:timers/promises';
import type { LoggedEvent } from '../../contract/events.js';
import { STORAGE_LIMITS } from '../../limits.js';
import { groupCommit, type QueuedWrite } from '../groupCommit.js';
import { type LoggedEntry, RoomNotFoundError } from '../store.js';
import { apply } from './apply.js';
import type { Collections } from './collections.js';
import { insertEntries, readEntry, readInsertAt } from './log.js';
import { RoomState, type StateKey } from './roomState.js';
import { MAX_POLL_PAUSE_MS, turnsOf } from './turns.js';

/** Races a batch may lose to writers in other processes before giving up. */
const MAX_COMMIT_ROUNDS = 100;
/** How long a writer that lost a race waits for the winner to apply before applying its entries itself. */
const CATCH_UP_WAIT_MS = 1_000;

/** What a queued write decided from the room's state: an event to log, or an answer without one. */
export type Decision =
  | { event: LoggedEvent; committed(entry: LoggedEntry): void }
  | { answer(): void };

/** A write waiting in its room's queue (see `groupCommit`). */
export interface RoomWrite extends QueuedWrite {
  /** The derived documents `decide` reads. */
  readonly reads: StateKey[];
  /** Decides from the room's state at the head its event would follow; may be asked again. */
  decide(state: RoomState): Decision;
}

/** The commit path of every room this process writes (see the design comment in ../mongo.ts). */
export interface Committer {
  /** Queues a write in its room; settles with what `write` hands its `resolve` or `reject`. */
  submit<T>(
    roomId: string,
    write: (
      resolve: (value: T) => void,
      reject: (error: unknown) => void,
    ) => Omit<RoomWrite, 'fail'>,
  ): Promise<T>;
  /**
   * The room's head, or null when the room does not exist; every entry up to it is applied, and
   * it is at least every entry a writer has told its caller about (writers advance the room's
   * `seq` before they reply). Something logged past the room's `seq` is normally being applied by
   * its writer: this waits for that like a writer that lost a race (`catchUp`), so that only a
   * writer that is gone has its entries applied by someone else.
   */
  settle(roomId: string): Promise<number | null>;
  /** The room's `seq`: every event up to it is applied. Null when the room does not exist. */
  appliedHead(roomId: string): Promise<number | null>;
}

export function committerOf(c: Collections): Committer {
  const { rooms, events } = c;
  const turns = turnsOf(c.claims);
  /** Per room, the last seq this process knows is logged and applied: where its next insert goes. */
  const heads = new Map<string, number>();

  const appliedHead = async (roomId: string): Promise<number | null> => {
    const room = await rooms.findOne({ _id: roomId }, { projection: { seq: 1 } });
    return room ? room.seq : null;
  };

  const advance = async (roomId: string, head: number): Promise<void> => {
    await rooms.updateOne({ _id: roomId }, { $max: { seq: head } });
  };

  /** Reads and applies the entries after `applied` through at least `seq`; returns the head reached. */
  const rollForward = async (roomId: string, applied: number, seq: number): Promise<number> => {
    const entries: LoggedEntry[] = [];
    let head = applied;
    while (head < seq) {
      // Every seq up to `seq` is taken: the log has no gaps.
      const run = await readInsertAt(events, roomId, head + 1);
      if (run.length === 0) throw new Error(`room ${roomId}: entry ${head + 1} cannot be read`);
      for (const entry of run) {
        entries.push(entry);
        head = entry.seq;
      }
    }
    await apply(c, roomId, entries);
    await advance(roomId, head);
    return head;
  };

  /**
   * After losing `seq` to another writer: the new head, with every entry up to it applied. The
   * winner applies its entries and advances the room's `seq` a few round trips after its insert,
   * so this waits for that, reading only the room; a winner that has not done it within
   * CATCH_UP_WAIT_MS is slow or dead, and its entries are then read and applied here.
   */
  const catchUp = async (roomId: string, seq: number): Promise<number> => {
    const deadline = Date.now() + CATCH_UP_WAIT_MS;
    for (let pause = 1; ; pause = Math.min(pause * 2, MAX_POLL_PAUSE_MS)) {
      const applied = await appliedHead(roomId);
      if (applied === null) throw new RoomNotFoundError(roomId);
      if (applied >= seq) return applied;
      if (Date.now() >= deadline) return rollForward(roomId, applied, seq);
      await sleep(pause);
    }
  };

  const settle = async (roomId: string): Promise<number | null> => {
    const applied = await appliedHead(roomId);
    if (applied === null) return null;
    if (!(await readEntry(events, roomId, applied + 1))) return applied;
    return catchUp(roomId, applied + 1);
  };

  /**
   * One batch of the room's queue: decides each write from the state at the head, logs the
   * events in one ordered insert at head + 1…, applies them in one bulk write per collection,
   * tells the writers (in log order), and advances the room's `seq`.
   *
   * Losing the race for head + 1 to another process: the entries inserted before the taken seq
   * stand (each was decided from exactly the log before it); the rest claim the next turn, wait
   * for the winner to apply (`catchUp`: reads of the room, bounded), and are decided again at
   * the new head. Nothing reads the log's tail: a race costs a few reads of the room document.
   */
  const commitBatch = async (roomId: string, writes: RoomWrite[]): Promise<void> => {
    let head = heads.get(roomId) ?? (await appliedHead(roomId));
    if (head === null) throw new RoomNotFoundError(roomId);
    let state = await RoomState.read(
      c,
      roomId,
      writes.flatMap((write) => write.reads),
    );
    /** Our entries logged so far, oldest first: what we apply. */
    const logged: LoggedEntry[] = [];
    /** How to tell each settled write its outcome, in log order. */
    const replies: (() => void)[] = [];
    let claimed = false;
    try {
      for (let pending = writes, round = 1; ; round++) {
        const draft = state.clone();
        const planned: { write: RoomWrite; entry: LoggedEntry | null; reply: () => void }[] = [];
        let seq = head;
        for (const write of pending) {
          const decision = write.decide(draft);
          if ('answer' in decision) {
            planned.push({ write, entry: null, reply: decision.answer });
            continue;
          }
          const entry: LoggedEntry = { seq: ++seq, event: decision.event };
          draft.fold(entry);
          planned.push({ write, entry, reply: () => decision.committed(entry) });
        }
        const entries = planned.flatMap(({ entry }) => (entry ? [entry] : []));
        const inserted = entries.length === 0 ? 0 : await insertEntries(events, roomId, entries);
        const lost = entries[inserted];
        const cut = lost ? planned.findIndex(({ entry }) => entry === lost) : planned.length;
        for (const { entry, reply } of planned.slice(0, cut)) {
          if (entry) logged.push(entry);
          replies.push(reply);
        }
        head += inserted;
        pending = planned.slice(cut).map(({ write }) => write);
        if (pending.length === 0) break;
        if (round >= MAX_COMMIT_ROUNDS) {
          throw new Error(`room ${roomId}: gave up after losing ${round} races to other writers`);
        }
        const claiming = claimed ? null : turns.claim(roomId);
        claimed = true;
        [head] = await Promise.all([catchUp(roomId, head + 1), claiming]);
        state = await RoomState.read(
          c,
          roomId,
          pending.flatMap((write) => write.reads),
        );
      }
      if (logged.length > 0) await apply(c, roomId, logged);
    } finally {
      // A claim left behind costs the other writers one CLAIM_WAIT_MS, then they remove it.
      if (claimed) await turns.release(roomId).catch(() => {});
    }
    heads.set(roomId, head);
    if (logged.length === 0) {
      for (const reply of replies) reply();
      return;
    }
    const yielding = turns.giveWay(roomId);
    // Advanced before anyone hears of the entries: what a reader learns of is within the room's `seq`.
    await advance(roomId, head);
    for (const reply of replies) reply();
    await yielding;
  };

  const enqueue = groupCommit<RoomWrite>(
    async (roomId, writes) => {
      try {
        await commitBatch(roomId, writes);
      } catch (error) {
        // Whatever went wrong, the next batch starts again from the room's `seq`.
        heads.delete(roomId);
        throw error;
      }
    },
    { maxBatch: STORAGE_LIMITS.commitBatchMax },
  );

  const submit = <T>(
    roomId: string,
    write: (
      resolve: (value: T) => void,
      reject: (error: unknown) => void,
    ) => Omit<RoomWrite, 'fail'>,
  ): Promise<T> =>
    new Promise<T>((resolve, reject) =>
      enqueue(roomId, { ...write(resolve, reject), fail: reject }),
    );

  return { submit, settle, appliedHead };
}
