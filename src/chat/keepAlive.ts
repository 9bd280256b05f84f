export interface KeepAlive {
  /** The client sent something: it is alive, and the next ping waits a full interval again. */
  activity(): void;
  stop(): void;
}

/** tRPC's keep-alive: text PING after an idle spell; no answer in time ends the connection. */
export function startKeepAlive(opts: {
  ping(): void;
  silent(): void;
  pingMs: number;
  pongWaitMs: number;
}): KeepAlive {
  let timer: NodeJS.Timeout | undefined;
  const schedulePing = () => {
    timer = setTimeout(() => {
      opts.ping();
      timer = setTimeout(opts.silent, opts.pongWaitMs);
    }, opts.pingMs);
  };
  schedulePing();
  return {
    activity() {
      clearTimeout(timer);
      schedulePing();
    },
    stop() {
      clearTimeout(timer);
    },
  };
}
