/** Discovery port: which chat server a client should connect to now. */
export interface Discovery {
  /** `requestHost` is the Host the client used to reach the API, when known. */
  chatUrl(requestHost: string | null): Promise<string>;
  close(): Promise<void>;
}
