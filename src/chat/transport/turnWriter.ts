import { mergeFrames } from './wsFrames.js';

/** A connection's output, as the writer sees it. */
export interface Outlet {
  /** Frames queued this event-loop turn, in order; null when none. */
  queued: Buffer[] | null;
  queuedBytes: number;
  /** The client asked for batched frames: everything queued in a turn leaves as one message. */
  readonly batched: boolean;
  /** Where its bytes go (the connection's TCP or TLS socket). */
  readonly socket: { write(bytes: Buffer): unknown };
  /** Data may still be written (no close frame sent, socket not gone). */
  isOpen(): boolean;
}

/** Several members' queued frames, identical: written to each as the same bytes. */
interface SharedWrite {
  readonly frames: Buffer[];
  readonly batched: boolean;
  readonly bytes: Buffer;
  readonly next: SharedWrite | null;
}

/**
 * Everything queued for a socket in one event-loop turn leaves in one write (one syscall): the
 * frames back to back, or, for a batched client, their messages merged into frames of at most
 * `maxBatchPayload` bytes. Members of a room get the same frames in a turn, so the bytes are
 * built once and the same buffer is written to each of them. A socket that cannot take more does
 * not hold up the others: the write is queued by Node, and the output budget ends it.
 */
export class TurnWriter {
  private outlets: Outlet[] = [];

  constructor(private readonly maxBatchPayload: number) {}

  queue(outlet: Outlet, frame: Buffer): void {
    if (outlet.queued) outlet.queued.push(frame);
    else {
      outlet.queued = [frame];
      if (this.outlets.length === 0) setImmediate(this.endTurn);
      this.outlets.push(outlet);
    }
    outlet.queuedBytes += frame.length;
  }

  /** Writes what `outlet` has queued at once, ahead of the end of the turn (before a close). */
  flush(outlet: Outlet): void {
    this.write(outlet, null);
  }

  private readonly endTurn = (): void => {
    const outlets = this.outlets;
    this.outlets = [];
    const shared = new Map<Buffer, SharedWrite>();
    for (const outlet of outlets) this.write(outlet, shared);
  };

  private write(outlet: Outlet, shared: Map<Buffer, SharedWrite> | null): void {
    const frames = outlet.queued;
    if (!frames) return;
    outlet.queued = null;
    outlet.queuedBytes = 0;
    if (outlet.isOpen()) outlet.socket.write(this.bytesOf(frames, outlet.batched, shared));
  }

  private bytesOf(
    frames: Buffer[],
    batched: boolean,
    shared: Map<Buffer, SharedWrite> | null,
  ): Buffer {
    const [first] = frames as [Buffer];
    if (frames.length === 1) return first;
    const known = shared?.get(first) ?? null;
    for (let write = known; write; write = write.next) {
      if (write.batched === batched && sameFrames(write.frames, frames)) return write.bytes;
    }
    const bytes = batched ? mergeFrames(frames, this.maxBatchPayload) : Buffer.concat(frames);
    shared?.set(first, { frames, batched, bytes, next: known });
    return bytes;
  }
}

function sameFrames(a: Buffer[], b: Buffer[]): boolean {
  if (a.length !== b.length) return false;
  for (let index = 0; index < a.length; index++) if (a[index] !== b[index]) return false;
  return true;
}
