import type { Endpoint, ServerSetup } from '../protocol.js';

/** One system under test, running in the server child process. */
export interface SystemServer {
  endpoint: Endpoint;
  close(): Promise<void>;
}

export type StartSystem = (setup: ServerSetup) => Promise<SystemServer>;

export function identities(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, index) => `${prefix}${index}`);
}
