/** The longest delay `setTimeout` honours; a longer one fires after 1 ms instead. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Something with one deadline at a time: `wake` is called once it has passed. */
export interface Sleeper {
  /** Epoch ms; Infinity while not scheduled. Maintained by the queue. */
  wakeAt: number;
  /** Position in the queue, -1 when not in it. Maintained by the queue. */
  queueIndex: number;
  wake(now: number): void;
}

/**
 * Deadlines of many sleepers (every connection's keep-alive, authentication deadline, session
 * expiry and closing cut-off) on one timer, armed for the earliest: a binary heap, so scheduling
 * and cancelling cost O(log n) and a connection costs no timer of its own. Deadlines further away
 * than one `setTimeout` can wait (a month-long session) are reached in steps.
 */
export class DeadlineQueue<T extends Sleeper> {
  private readonly heap: T[] = [];
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Number.POSITIVE_INFINITY;

  /** Sets (or moves) the sleeper's deadline. */
  schedule(sleeper: T, at: number): void {
    sleeper.wakeAt = at;
    if (sleeper.queueIndex < 0) {
      sleeper.queueIndex = this.heap.length;
      this.heap.push(sleeper);
    }
    this.siftUp(sleeper.queueIndex);
    this.siftDown(sleeper.queueIndex);
    this.arm();
  }

  cancel(sleeper: T): void {
    const index = sleeper.queueIndex;
    if (index < 0) return;
    sleeper.queueIndex = -1;
    sleeper.wakeAt = Number.POSITIVE_INFINITY;
    const last = this.heap.pop() as T;
    if (index < this.heap.length) {
      this.place(last, index);
      this.siftUp(index);
      this.siftDown(last.queueIndex);
    }
    if (this.heap.length === 0) this.disarm();
  }

  get size(): number {
    return this.heap.length;
  }

  private readonly fire = (): void => {
    this.timer = null;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    const due: T[] = [];
    for (let top = this.heap[0]; top && top.wakeAt <= now; top = this.heap[0]) {
      this.cancel(top);
      due.push(top);
    }
    // Woken after every due one has left the heap, so a sleeper may schedule itself again.
    for (const sleeper of due) sleeper.wake(now);
    this.arm();
  };

  private arm(): void {
    const top = this.heap[0];
    if (!top || top.wakeAt >= this.timerAt) return;
    this.disarm();
    this.timerAt = top.wakeAt;
    const delay = Math.min(Math.max(top.wakeAt - Date.now(), 0), MAX_TIMER_MS);
    this.timer = setTimeout(this.fire, delay);
    this.timer.unref?.();
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Number.POSITIVE_INFINITY;
  }

  private place(sleeper: T, index: number): void {
    this.heap[index] = sleeper;
    sleeper.queueIndex = index;
  }

  private siftUp(index: number): void {
    const sleeper = this.heap[index] as T;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = this.heap[parentIndex] as T;
      if (parent.wakeAt <= sleeper.wakeAt) break;
      this.place(parent, index);
      index = parentIndex;
    }
    this.place(sleeper, index);
  }

  private siftDown(index: number): void {
    const sleeper = this.heap[index] as T;
    const length = this.heap.length;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      const child =
        right < length && (this.heap[right] as T).wakeAt < (this.heap[left] as T).wakeAt
          ? right
          : left;
      if ((this.heap[child] as T).wakeAt >= sleeper.wakeAt) break;
      this.place(this.heap[child] as T, index);
      index = child;
    }
    this.place(sleeper, index);
  }
}
