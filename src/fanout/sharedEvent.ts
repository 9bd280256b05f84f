import type { ChatEvent } from '../contract/events.js';

/**
 * One room event on its way to every local member. Transports encode it once per wire shape,
 * not once per member: that is what keeps a large room's fan-out cheap.
 */
export class SharedEvent {
  constructor(
    /** Room sequence number this event carries as its tracked id. */
    readonly seq: number,
    readonly event: ChatEvent,
    /** True for log entries (messages, votes), which a member must see once and in order. */
    readonly logged: boolean,
  ) {}

  get id(): string {
    return String(this.seq);
  }
}
