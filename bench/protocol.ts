/** Types shared by the orchestrator and its child processes (sent over IPC, advanced serialization). */

/**
 * `trpc-stock` is ChatHub's router and services behind tRPC's stock `applyWSSHandler`;
 * `chathub-mongo` is ChatHub as one process on Redis and MongoDB (its production adapters).
 */
export const SYSTEMS = ['chathub', 'ws', 'socketio', 'trpc-stock', 'chathub-mongo'] as const;
export type SystemName = (typeof SYSTEMS)[number];
/** What `--systems` defaults to: `chathub-mongo` needs Redis and MongoDB, so it is asked for by name. */
export const DEFAULT_SYSTEMS: readonly SystemName[] = ['chathub', 'ws', 'socketio', 'trpc-stock'];

export const SCENARIOS = ['burst', 'rate', 'scaleout'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export const ROOM_ID = 'general';

/** What a server child must provide: room members plus sender identities for every phase. */
export interface ServerSetup {
  system: SystemName;
  receivers: number;
  senders: number;
  /** ChatHub only: run as one chat server of several sharing this Redis and MongoDB database. */
  scaleOut?: ScaleOutSetup;
}

export interface ScaleOutSetup {
  redisUrl: string;
  /** Including the database name, unique to the run. */
  mongoUrl: string;
}

/** Where clients connect and with which identities (JWTs for ChatHub, user ids for baselines). */
export interface Endpoint {
  url: string;
  receiverCredentials: string[];
  senderCredentials: string[];
}

export interface CpuSample {
  /** user + system CPU time, microseconds */
  cpuMicros: number;
  /** wall clock, epoch ms */
  at: number;
}

export interface ConnectPlan {
  system: SystemName;
  url: string;
  receiverCredentials: string[];
  senderCredentials: string[];
  /** Connections opened concurrently; the next batch starts when this one is live. */
  batchSize: number;
  timeoutMs: number;
  /**
   * Scale-out: receiver i connects to receiverUrls[i] instead of `url` (senders always use `url`).
   * A delivery to a receiver whose URL differs from `url` is labelled remote.
   */
  receiverUrls?: string[];
}

export interface ConnectResult {
  receivers: number;
  senders: number;
  ms: number;
}

/** Arms a collection phase: receivers expect `messages` messages tagged with `phase`. */
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

export interface SendPlan {
  phase: number;
  messages: number;
  mode: SendMode;
  /** Which of the connected senders to use (round-robin over [first, first + count)). */
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
