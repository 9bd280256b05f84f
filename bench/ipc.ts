import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A request/response API over a child process's IPC channel: method → { req, res }. */
export type Api<A> = { [M in keyof A]: { req: unknown; res: unknown } };

interface Request {
  seq: number;
  method: string;
  body: unknown;
}

interface Reply {
  seq: number;
  ok: boolean;
  body: unknown;
  error: string | null;
}

function isReply(value: unknown): value is Reply {
  return typeof value === 'object' && value !== null && 'seq' in value && 'ok' in value;
}

function isRequest(value: unknown): value is Request {
  return typeof value === 'object' && value !== null && 'seq' in value && 'method' in value;
}

/** Every child this process started, so a hard timeout can kill them all. */
const children = new Set<ChildProcess>();

export function killAllChildren(): void {
  for (const child of children) child.kill('SIGKILL');
}

export interface ForkOptions {
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
  /** The child exits by itself after this long, whatever happens. */
  lifetimeMs: number;
}

/** The parent's handle on a child: typed calls with timeouts, and a bounded shutdown. */
export class ChildLink<A extends Api<A>> {
  private seq = 0;
  private readonly pending = new Map<
    number,
    { resolve(value: unknown): void; reject(error: Error): void }
  >();
  private readonly exited: Promise<number | null>;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    children.add(child);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code) => {
        children.delete(child);
        for (const { reject } of this.pending.values()) {
          reject(new Error(`${name} exited (code ${code}) with a call pending`));
        }
        this.pending.clear();
        resolve(code);
      });
    });
    child.on('message', (message: unknown) => {
      if (!isReply(message)) return;
      const waiter = this.pending.get(message.seq);
      if (!waiter) return;
      this.pending.delete(message.seq);
      if (message.ok) waiter.resolve(message.body);
      else waiter.reject(new Error(`${name}: ${message.error}`));
    });
  }

  static fork<A extends Api<A>>(name: string, moduleUrl: URL, opts: ForkOptions): ChildLink<A> {
    const child = fork(fileURLToPath(moduleUrl), [String(opts.lifetimeMs)], {
      execArgv: ['--import', 'tsx', ...(opts.nodeArgs ?? [])],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new ChildLink<A>(name, child);
  }

  call<M extends keyof A & string>(
    method: M,
    body: A[M]['req'],
    timeoutMs: number,
  ): Promise<A[M]['res']> {
    const seq = ++this.seq;
    return new Promise<A[M]['res']>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(seq);
        reject(new Error(`${this.name}.${method} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(seq, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as A[M]['res']);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      const request: Request = { seq, method, body };
      this.child.send(request, (error) => {
        if (error) this.pending.get(seq)?.reject(error);
      });
    });
  }

  /** Asks the child to finish with `method`, then waits for it to exit; kills it if it lingers. */
  async shutdown(method: (keyof A & string) | null, timeoutMs: number): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    if (method) {
      await this.call(method, null, timeoutMs).catch((error: unknown) => {
        console.error(`  ! ${this.name}: ${String(error)}`);
      });
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}

export type Handlers<A extends Api<A>> = {
  [M in keyof A]: (body: A[M]['req']) => Promise<A[M]['res']>;
};

/**
 * The child side: answers the parent's calls. The child exits when the parent goes away, and
 * in any case after `lifetimeMs` (argv[2]), so no run can leave processes behind.
 */
export function serveParent<A extends Api<A>>(handlers: Handlers<A>, exitAfter: keyof A): void {
  const lifetimeMs = Number(process.argv[2] ?? 0) || 30 * 60_000;
  setTimeout(() => {
    console.error(`child ${process.pid}: lifetime of ${lifetimeMs} ms exceeded, exiting`);
    process.exit(3);
  }, lifetimeMs).unref();
  process.on('disconnect', () => process.exit(2));
  process.on('message', (message: unknown) => {
    if (!isRequest(message)) return;
    const method = message.method as keyof A;
    const handler = handlers[method];
    const reply = (ok: boolean, body: unknown, error: string | null) => {
      const out: Reply = { seq: message.seq, ok, body, error };
      process.send?.(out, () => {
        if (method === exitAfter) process.exit(0);
      });
    };
    if (!handler) {
      reply(false, null, `unknown method ${String(method)}`);
      return;
    }
    handler(message.body as A[keyof A]['req']).then(
      (body) => reply(true, body, null),
      (error: unknown) =>
        reply(false, null, error instanceof Error ? (error.stack ?? error.message) : String(error)),
    );
  });
}
