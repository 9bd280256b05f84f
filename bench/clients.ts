/**
 * Client child process: holds the room members (and, in process 0, the senders) of one system,
 * and measures send-to-receive latency of every delivery from the timestamp in the body.
 */
import { BATCH_PROTOCOL } from '../src/contract/wire.js';
import { centrifugoClient } from './clients/centrifugo.js';
import { chatHubClient } from './clients/chathub.js';
import { chatHubTrpcClient } from './clients/chathubTrpc.js';
import { socketIoClient } from './clients/socketio.js';
import type { Closable, Sender, SystemClient } from './clients/types.js';
import { wsClient } from './clients/ws.js';
import { serveParent } from './ipc.js';
import { decodeBody, encodeBody, now } from './payload.js';
import type {
  ArmPlan,
  ClientApi,
  ClientKind,
  CollectResult,
  ConnectPlan,
  SendPlan,
  SendResult,
} from './protocol.js';

const CLIENTS: Record<ClientKind, SystemClient> = {
  chathub: chatHubClient({ format: 'single' }),
  'chathub-batched': chatHubClient({ format: 'lines', protocols: [BATCH_PROTOCOL] }),
  'chathub-trpc-client': chatHubTrpcClient,
  ws: wsClient,
  socketio: socketIoClient,
  centrifugo: centrifugoClient,
};

const CLOSE_BATCH = 250;
const CLOSE_TIMEOUT_MS = 15_000;

let receivers: Closable[] = [];
/** 1 for a receiver connected to another server than the senders (scale-out), by index. */
let receiverRemote = new Uint8Array(0);
let senders: Sender[] = [];
let collector: Collector | null = null;

class Collector {
  readonly counts: Uint32Array;
  readonly latencies: Float64Array;
  readonly remote: Uint8Array;
  filled = 0;
  completeReceivers = 0;
  stray = 0;
  errors = 0;
  firstError: string | null = null;
  lastReceiveAt = 0;
  readonly done: Promise<void>;
  private finish!: () => void;
  private readonly timer: NodeJS.Timeout;
  private readonly cpuAtStart = process.cpuUsage();
  private readonly armedAt = now();
  private finishedAt = 0;

  constructor(
    readonly plan: ArmPlan,
    readonly receiverCount: number,
  ) {
    this.counts = new Uint32Array(receiverCount);
    this.latencies = new Float64Array(receiverCount * plan.messages);
    this.remote = new Uint8Array(receiverCount * plan.messages);
    this.done = new Promise((resolve) => {
      this.finish = resolve;
    });
    this.timer = setTimeout(() => this.end(), plan.deadlineMs);
    if (receiverCount === 0 || plan.messages === 0) this.end();
  }

  record(receiver: number, body: string): void {
    const at = now();
    const decoded = decodeBody(body);
    if (!decoded || decoded.phase !== this.plan.phase || this.finishedAt) {
      this.stray += 1;
      return;
    }
    if (this.filled < this.latencies.length) {
      this.remote[this.filled] = receiverRemote[receiver] ?? 0;
      this.latencies[this.filled++] = at - decoded.sentAt;
    }
    const count = (this.counts[receiver] ?? 0) + 1;
    this.counts[receiver] = count;
    this.lastReceiveAt = at;
    if (count === this.plan.messages) {
      this.completeReceivers += 1;
      if (this.completeReceivers === this.receiverCount) this.end();
    }
  }

  error(error: unknown): void {
    this.errors += 1;
    this.firstError ??= error instanceof Error ? error.message : String(error);
  }

  private end(): void {
    if (this.finishedAt) return;
    this.finishedAt = now();
    clearTimeout(this.timer);
    this.finish();
  }

  result(): CollectResult {
    const cpu = process.cpuUsage(this.cpuAtStart);
    return {
      phase: this.plan.phase,
      receivers: this.receiverCount,
      expected: this.receiverCount * this.plan.messages,
      delivered: this.filled,
      completeReceivers: this.completeReceivers,
      stray: this.stray,
      errors: this.errors,
      firstError: this.firstError,
      latencies: this.latencies.slice(0, this.filled),
      remote: this.remote.slice(0, this.filled),
      lastReceiveAt: this.lastReceiveAt,
      cpuMicros: cpu.user + cpu.system,
      wallMs: this.finishedAt - this.armedAt,
    };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function connect(plan: ConnectPlan) {
  const client = CLIENTS[plan.client];
  const started = now();
  const deadline = started + plan.timeoutMs;
  const remaining = () => Math.max(1, deadline - now());
  const offsetInAll = receivers.length;
  const remote = new Uint8Array(offsetInAll + plan.receivers.length);
  remote.set(receiverRemote.subarray(0, offsetInAll));
  plan.receivers.forEach((receiver, index) => {
    remote[offsetInAll + index] = receiver.url === plan.url ? 0 : 1;
  });
  receiverRemote = remote;
  for (let first = 0; first < plan.receivers.length; first += plan.batchSize) {
    const batch = plan.receivers
      .slice(first, first + plan.batchSize)
      .map(({ url, credential, roomId }, offset) => {
        const index = offsetInAll + first + offset;
        return client.receiver(url, credential, roomId, {
          onBody: (body) => {
            if (collector) collector.record(index, body);
          },
          onError: (error) => collector?.error(error),
        });
      });
    const connected = await withTimeout(
      Promise.all(batch),
      remaining(),
      `connecting receivers ${first}..${first + batch.length - 1}`,
    );
    receivers.push(...connected);
  }
  for (let first = 0; first < plan.senders.length; first += plan.batchSize) {
    const batch = plan.senders
      .slice(first, first + plan.batchSize)
      .map(({ credential, roomId }) => client.sender(plan.url, credential, roomId));
    senders.push(...(await withTimeout(Promise.all(batch), remaining(), 'connecting senders')));
  }
  return { receivers: receivers.length, senders: senders.length, ms: now() - started };
}

function sleepUntil(at: number): Promise<void> {
  const delay = at - now();
  return delay > 0 ? new Promise((resolve) => setTimeout(resolve, delay)) : Promise.resolve();
}

async function send(plan: SendPlan): Promise<SendResult> {
  const pool = senders.slice(plan.firstSender, plan.firstSender + plan.senderCount);
  if (pool.length === 0) throw new Error('no senders connected for this phase');
  const result: SendResult = {
    sent: 0,
    failed: 0,
    firstError: null,
    firstSendAt: now(),
    lastSendAt: 0,
    lastAckAt: 0,
  };
  const acks: Promise<void>[] = [];
  const interval = plan.mode.kind === 'rate' ? 1000 / plan.mode.perSecond : 0;
  const stopAt = result.firstSendAt + plan.timeoutMs;
  for (let index = 0; index < plan.messages && now() < stopAt; index++) {
    if (interval > 0) await sleepUntil(result.firstSendAt + index * interval);
    const sender = pool[index % pool.length] as Sender;
    const sentAt = now();
    result.lastSendAt = sentAt;
    result.sent += 1;
    acks.push(
      sender.send(encodeBody(plan.phase, sentAt)).then(
        () => {
          result.lastAckAt = now();
        },
        (error: unknown) => {
          result.failed += 1;
          result.firstError ??= error instanceof Error ? error.message : String(error);
        },
      ),
    );
  }
  await withTimeout(Promise.all(acks), Math.max(1, stopAt - now()), 'waiting for acks').catch(
    (error: unknown) => {
      result.firstError ??= String(error);
    },
  );
  return result;
}

async function closeAll(items: Closable[]): Promise<void> {
  for (let first = 0; first < items.length; first += CLOSE_BATCH) {
    await Promise.allSettled(items.slice(first, first + CLOSE_BATCH).map((item) => item.close()));
  }
}

serveParent<ClientApi>(
  {
    connect,
    async arm(plan) {
      collector = new Collector(plan, receivers.length);
      return null;
    },
    async collect() {
      if (!collector) throw new Error('not armed');
      await collector.done;
      const result = collector.result();
      collector = null;
      return result;
    },
    send,
    async close() {
      collector = null;
      await withTimeout(closeAll([...senders, ...receivers]), CLOSE_TIMEOUT_MS, 'closing').catch(
        (error: unknown) => console.error(`clients ${process.pid}: ${String(error)}`),
      );
      receivers = [];
      receiverRemote = new Uint8Array(0);
      senders = [];
      return null;
    },
  },
  'close',
);
