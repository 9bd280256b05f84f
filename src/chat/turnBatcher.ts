import type { Socket } from 'node:net';

/**
 * Room events reach a member as one write per event, and a write is a syscall. When a member gets
 * a second event within one event-loop turn (a burst), its socket is corked until the turn ends,
 * so the rest of the burst leaves in one syscall. A lone event is written at once: corking it
 * would only hold it back until every other member had been served.
 */
export function createTurnBatcher() {
  let turn = new Map<Socket, 'written' | 'corked'>();
  const endTurn = () => {
    const ended = turn;
    turn = new Map();
    for (const [socket, state] of ended) if (state === 'corked') socket.uncork();
  };
  return {
    beforeWrite(socket: Socket): void {
      const state = turn.get(socket);
      if (state === 'corked') return;
      if (turn.size === 0) setImmediate(endTurn);
      if (state === 'written') socket.cork();
      turn.set(socket, state === 'written' ? 'corked' : 'written');
    },
  };
}
