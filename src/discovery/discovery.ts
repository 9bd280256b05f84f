/** Discovery port: which chat server a client should connect to now, and how one announces itself. */
export interface Discovery {
  /**
   * `requestHost` is the Host the client used to reach the API, when known. `avoid` is a server
   * the client just lost: another is preferred while one is live.
   */
  chatUrl(requestHost: string | null, avoid?: string): Promise<string>;
  /**
   * Makes this chat server discoverable until the registration is withdrawn (a no-op where there
   * is one known chat server). Resolves once it is discoverable.
   */
  register(server: ChatServerAnnouncement): Promise<ChatServerRegistration>;
  close(): Promise<void>;
}

export interface ChatServerAnnouncement {
  serverId: string;
  /** The WebSocket URL clients use to reach this server. */
  publicUrl: string;
  /** This server's current number of client connections (its load). */
  connections(): number;
  /**
   * Whether it can serve clients now. While false it is not handed out (for example, its storage
   * has been unreachable too long and it waits to be restarted).
   */
  available(): boolean;
}

export interface ChatServerRegistration {
  /**
   * Re-announces the load shortly (coalescing bursts), so that discovery sees a change of
   * connections before the next heartbeat and a wave of sign-ins spreads across servers.
   */
  loadChanged(): void;
  /** Stops announcing and removes this server from discovery at once. */
  deregister(): Promise<void>;
}
