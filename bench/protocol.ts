/** Types shared by the orchestrator and its child processes (sent over IPC, advanced serialization). */

/**
 * What a server child runs. `trpc-stock` is ChatHub's router and services behind tRPC's stock
 * `applyWSSHandler`; `centrifugo` is the Centrifugo binary, spawned and watched by the child.
 */
export type ServerKind = 'chathub' | 'ws' | 'socketio' | 'trpc-stock' | 'centrifugo';

/**
 * How a client child talks to a server. Every receiver is a bare `ws` client that counts
 * deliveries from frame text, except `chathub-trpc-client`, which uses the stock `@trpc/client`
 * to show what that library costs.
 */
export type ClientKind =
  | 'chathub'
  | 'chathub-batched'
  | 'chathub-trpc-client'
  | 'ws'
  | 'socketio'
  | 'centrifugo';

/** The one room of the single-room scenarios: ChatHub's default room. */
export const ROOM_ID = 'general';

/** Shared services a ChatHub server process runs on; empty = embedded (SQLite, in-process bus). */
export interface BackendUrls {
  redisUrl?: string;
  /** A Redis Cluster's seed nodes, as REDIS_CLUSTER_NODES takes them. */
  redisClusterNodes?: string;
  /** Including the database name, unique to the run. */
  mongoUrl?: string;
}

/** What a server child must provide: room members plus sender identities for every phase. */
export interface ServerSetup {
  kind: ServerKind;
  /** Rooms that must exist (ChatHub creates them; the others need nothing). */
  roomIds: string[];
  receivers: number;
  senders: number;
  backend: BackendUrls;
  /** ChatHub: DATA_DIR shared by every process of one system (SQLite); a temp dir if absent. */
  dataDir?: string;
  /** Centrifugo: GOMAXPROCS; absent = Go's default (every core). */
  maxProcs?: number;
  /** Centrifugo: the binary to run. */
  binary?: string;
}

/** Where clients connect and with which identities (JWTs, or user ids for the bare baselines). */
export interface Endpoint {
  url: string;
  receiverCredentials: string[];
  senderCredentials: string[];
}

export interface CpuSample {
  /** user + system CPU time of the system under test, microseconds */
  cpuMicros: number;
  /** wall clock, epoch ms */
  at: number;
}

export interface MemorySample {
  /** Resident set size of the system under test, bytes. */
  rss: number;
  /** Node servers: V8 heap in use after a full GC, bytes; null for others. */
  heapUsed: number | null;
}

export interface ReceiverSpec {
  credential: string;
  roomId: string;
  /** The server this receiver connects to (several chat processes: alternating). */
  url: string;
}

export interface SenderSpec {
  credential: string;
  roomId: string;
}

export interface ConnectPlan {
  client: ClientKind;
  /** The senders' server; a delivery to a receiver on another URL is labelled remote. */
  url: string;
  receivers: ReceiverSpec[];
  senders: SenderSpec[];
  /** Connections opened concurrently; the next batch starts when this one is live. */
  batchSize: number;
  timeoutMs: number;
}

export interface ConnectResult {
  receivers: number;
  senders: number;
  ms: number;
}

/** Arms a collection phase: every receiver expects `messages` messages tagged with `phase`. */
export interface ArmPlan {
  phase: number;
  messages: number;
  /** Give up waiting this long after arming. */
  deadlineMs: number;
}

export interface CollectResult {
  phase: number;
  receivers: number;
  expected: number;
  delivered: number;
  /** Receivers that got every message. */
  completeReceivers: number;
  /** Frames tagged with an older phase that arrived late (not counted). */
  stray: number;
  /** Receiver errors and disconnects while armed, and the first one's text. */
  errors: number;
  firstError: string | null;
  /** Send-to-receive latency of every delivery, ms. */
  latencies: Float64Array;
  /** Parallel to `latencies`: 1 when that receiver was on another server than the senders. */
  remote: Uint8Array;
  /** Epoch ms of the last delivery, or 0 when none. */
  lastReceiveAt: number;
  /** Client CPU time spent while the phase was armed, microseconds, and the wall time, ms. */
  cpuMicros: number;
  wallMs: number;
}

export type SendMode = { kind: 'burst' } | { kind: 'rate'; perSecond: number };

/**
 * Message m goes to sender firstSender + (m mod senderCount), into that sender's room. Sender
 * k's room is k mod rooms and senderCount is a multiple of the room count, so messages go round
 * robin over the rooms and every room gets the same number.
 */
export interface SendPlan {
  phase: number;
  messages: number;
  mode: SendMode;
  firstSender: number;
  senderCount: number;
  timeoutMs: number;
}

export interface SendResult {
  sent: number;
  failed: number;
  firstError: string | null;
  firstSendAt: number;
  lastSendAt: number;
  /** When the last acknowledgement arrived. */
  lastAckAt: number;
}

/** Request/response shapes per IPC method. */
export interface ServerApi {
  start: { req: ServerSetup; res: Endpoint };
  cpu: { req: null; res: CpuSample };
  memory: { req: null; res: MemorySample };
  /** CPU profile of the measured phase only (inspector), written as a .cpuprofile file. */
  profileStart: { req: null; res: null };
  profileStop: { req: { file: string }; res: string };
  stop: { req: null; res: null };
}

export interface ClientApi {
  connect: { req: ConnectPlan; res: ConnectResult };
  arm: { req: ArmPlan; res: null };
  collect: { req: null; res: CollectResult };
  send: { req: SendPlan; res: SendResult };
  close: { req: null; res: null };
}
