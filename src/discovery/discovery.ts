/** Discovery port: which chat server a client should connect to now. */
export interface Discovery {
  /**
   * `requestHost` is the Host the client used to reach the API, when known. `avoid` is a server
   * the client just lost: another is preferred while one is live.
   */
  chatUrl(requestHost: string | null, avoid?: string): Promise<string>;
  close(): Promise<void>;
}
