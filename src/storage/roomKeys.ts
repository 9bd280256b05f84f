import { roomNameKey } from '../contract/text.js';

/**
 * Name keys for rooms stored before names were unique by key, oldest first. The oldest room with
 * a given key keeps it; a later one that would collide gets the key followed by U+0001 and its id,
 * which stays unique, sorts right after the name it shares, and cannot be typed in a room name.
 * So an old database migrates without renaming or losing anything, and no new room can take any
 * of those names.
 */
export function keysForExistingRooms(
  oldestFirst: readonly { id: string; name: string }[],
  taken: ReadonlySet<string> = new Set(),
): Map<string, string> {
  const used = new Set(taken);
  const keys = new Map<string, string>();
  for (const { id, name } of oldestFirst) {
    const plain = roomNameKey(name);
    const key = used.has(plain) ? `${plain}\u0001${id}` : plain;
    used.add(key);
    keys.set(id, key);
  }
  return keys;
}

/**
 * The exclusive upper bound of keys starting with `prefix`: U+10FFFF is a noncharacter, which no
 * room name may contain, and stores compare keys by code point (UTF-8 bytes).
 */
export function prefixEnd(prefix: string): string {
  return `${prefix}\u{10FFFF}`;
}
