import type { Endpoint, ServerSetup } from '../protocol.js';

/** One system under test, running in (or, for `pid`, spawned by) the server child process. */
export interface SystemServer {
  endpoint: Endpoint;
  /** The process that does the work when it is not the server child itself. */
  pid?: number;
  close(): Promise<void>;
}

export type StartSystem = (setup: ServerSetup) => Promise<SystemServer>;

export function identities(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, index) => `${prefix}${index}`);
}
