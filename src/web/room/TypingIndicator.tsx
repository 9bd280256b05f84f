import type { PublicUser } from '../../contract/models.js';
import { typingLabel } from './typing.js';

/** Who else is typing, under the messages; its line is kept when empty so nothing jumps. */
export function TypingIndicator({ users }: { users: readonly PublicUser[] }) {
  return (
    <p className="typing" aria-live="polite" data-testid="typing">
      {typingLabel(users)}
    </p>
  );
}
