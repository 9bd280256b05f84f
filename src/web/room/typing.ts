import type { PublicUser } from '../../contract/models.js';

/** How many names a typing line spells out before counting the rest. */
const NAMED = 2;

/** "ada is typing…", "ada and bo are typing…", "ada, bo and 3 others are typing…". */
export function typingLabel(users: readonly PublicUser[]): string {
  const names = users.map((user) => user.username);
  if (names.length === 0) return '';
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length <= NAMED + 1) {
    return `${names.slice(0, -1).join(', ')} and ${names.at(-1)} are typing…`;
  }
  const others = names.length - NAMED;
  return `${names.slice(0, NAMED).join(', ')} and ${others} others are typing…`;
}
