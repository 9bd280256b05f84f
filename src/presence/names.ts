import type { PublicUser } from '../contract/models.js';

/** Users in the order presence lists them: by name ignoring case, then by id. */
export function byName(users: PublicUser[]): PublicUser[] {
  return [...users].sort(
    (a, b) => compare(a.username.toLowerCase(), b.username.toLowerCase()) || compare(a.id, b.id),
  );
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
