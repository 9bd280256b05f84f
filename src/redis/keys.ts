/**
 * Every key and channel of one room carries the hash tag `{room:<id>}`, so a Redis Cluster keeps
 * a room's channel, presence and anything else about it on one shard (and multi-key commands on
 * them stay legal). Room ids are `[a-z0-9-]`, so the tag always ends where it should.
 */
export function roomKey(prefix: string, roomId: string, what: 'events' | 'presence'): string {
  return `${prefix}{room:${roomId}}:${what}`;
}
