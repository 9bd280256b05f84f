/** An unbounded push queue read as an async iterator; `fail` rejects the next read. */
export class AsyncQueue<T> implements AsyncIterator<T, undefined> {
  private readonly items: T[] = [];
  private waiting: {
    resolve: (result: IteratorResult<T, undefined>) => void;
    reject: (error: unknown) => void;
  } | null = null;
  private failure: { error: unknown } | null = null;
  private ended = false;

  push(item: T): void {
    if (this.ended) return;
    if (this.waiting) {
      this.waiting.resolve({ done: false, value: item });
      this.waiting = null;
    } else {
      this.items.push(item);
    }
  }

  fail(error: unknown): void {
    this.failure = { error };
    this.waiting?.reject(error);
    this.waiting = null;
  }

  next(): Promise<IteratorResult<T, undefined>> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve({ done: false, value: item });
    if (this.failure) return Promise.reject(this.failure.error);
    if (this.ended) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  async return(): Promise<IteratorResult<T, undefined>> {
    this.ended = true;
    this.items.length = 0;
    this.waiting?.resolve({ done: true, value: undefined });
    this.waiting = null;
    return { done: true, value: undefined };
  }
}
