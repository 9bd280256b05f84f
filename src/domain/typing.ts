import type { EventBus } from '../bus/eventBus.js';
import type { PublicUser } from '../contract/models.js';
import type { TypingInput } from '../contract/schemas.js';
import { WRITE_RATES } from '../limits.js';
import { RateLimiter } from './rateLimiter.js';
import type { RoomService } from './rooms.js';

/**
 * "Someone is typing": never stored, only told to the room's chat servers, which show it until it
 * expires. One signal per user and room is taken per `WRITE_RATES.typing` (a little more often
 * than clients send them, for jitter); more are answered but change nothing (a client that types
 * fast is not an error).
 */
export class TypingService {
  private readonly signals: RateLimiter;

  constructor(
    private readonly bus: EventBus,
    private readonly rooms: RoomService,
    now: () => number = Date.now,
  ) {
    this.signals = new RateLimiter(WRITE_RATES.typing, now);
  }

  async typing(user: PublicUser, { roomId }: TypingInput): Promise<void> {
    if (!this.signals.tryTake(`${user.id}/${roomId}`)) return;
    await this.rooms.require(roomId);
    await this.bus.publish(roomId, { kind: 'typing', user });
  }
}
