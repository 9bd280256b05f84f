import { createTRPCClient, httpBatchLink, TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiRouter } from '../../src/api/router.js';
import { createApiClient } from '../../src/client/index.js';
import { LIMITS } from '../../src/contract/limits.js';
import { failure } from '../helpers/errors.js';
import { inParallel } from '../helpers/parallel.js';
import { startTestServer, type TestServer, uniqueName } from '../helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

/** Rooms made by the server itself (no owner, so no per-user limits), named `${tag} ${i}`. */
async function seedRooms(tag: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await server.running.services.rooms.create(`${tag} ${String(i).padStart(5, '0')}`);
  }
}

/** A GET batching `calls` queries of `path`, as a browser or curl would send it. */
function batchedGet(path: string, calls: number, input: unknown): string {
  const paths = Array.from({ length: calls }, () => path).join(',');
  const inputs = Object.fromEntries(Array.from({ length: calls }, (_, i) => [i, input]));
  return `${server.apiUrl}/trpc/${paths}?batch=1&input=${encodeURIComponent(JSON.stringify(inputs))}`;
}

describe('HTTP batches', () => {
  it('refuses the 1,000-way rooms.list batch whole, with a small answer', async () => {
    await seedRooms(uniqueName('flood'), 300);
    const url = `${server.apiUrl}/trpc/${Array.from({ length: 1000 }, () => 'rooms.list').join(',')}?batch=1&input=%7B%7D`;
    expect(url.length).toBeGreaterThan(11_000);
    const response = await fetch(url);
    const body = await response.text();
    expect(response.status).toBe(400);
    expect(body.length).toBeLessThan(1_024);
    expect(JSON.parse(body)).toMatchObject({
      error: { message: 'Batch call exceeds maximum size', data: { code: 'BAD_REQUEST' } },
    });
  });

  it('creates nothing from a POST batching 300 rooms.create', async () => {
    const { token } = await server.fastUser(uniqueName('batcher'));
    const tag = uniqueName('batched');
    const calls = 300;
    const response = await fetch(
      `${server.apiUrl}/trpc/${Array.from({ length: calls }, () => 'rooms.create').join(',')}?batch=1`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(
          Object.fromEntries(Array.from({ length: calls }, (_, i) => [i, { name: `${tag} ${i}` }])),
        ),
      },
    );
    expect(response.status).toBe(400);
    const { rooms } = await createApiClient(server.apiUrl).rooms.list.query({ query: tag });
    expect(rooms).toEqual([]);
  });

  it('answers the largest allowed batch of full pages within a bounded size', async () => {
    await seedRooms(uniqueName('bulk'), 2_000);
    const response = await fetch(batchedGet('rooms.list', LIMITS.httpBatchMax, { limit: 100 }));
    expect(response.status).toBe(200);
    const body = await response.text();
    const pages = JSON.parse(body) as { result: { data: { rooms: unknown[] } } }[];
    expect(pages).toHaveLength(LIMITS.httpBatchMax);
    for (const page of pages) expect(page.result.data.rooms).toHaveLength(100);
    // 2,000 rooms of ~100 bytes each: the most one request can ask for.
    expect(body.length).toBeLessThan(LIMITS.httpBatchMax * 100 * 150);
  });

  it('fails every call of an oversized batch from the stock client; maxItems splits it to fit', async () => {
    expect(LIMITS.httpBatchMax).toBe(20);
    const url = `${server.apiUrl}/trpc`;
    const unbounded = createTRPCClient<ApiRouter>({ links: [httpBatchLink({ url })] });
    const results = await Promise.allSettled(
      Array.from({ length: LIMITS.httpBatchMax + 1 }, () =>
        unbounded.rooms.get.query({ id: 'general' }),
      ),
    );
    for (const result of results) {
      expect(result.status).toBe('rejected');
      if (result.status === 'rejected') {
        expect(result.reason).toBeInstanceOf(TRPCClientError);
        expect((result.reason as TRPCClientError<ApiRouter>).message).toBe(
          'Batch call exceeds maximum size',
        );
      }
    }
    const split = createTRPCClient<ApiRouter>({
      links: [httpBatchLink({ url, maxItems: LIMITS.httpBatchMax })],
    });
    const rooms = await Promise.all(
      Array.from({ length: 3 * LIMITS.httpBatchMax }, () =>
        split.rooms.get.query({ id: 'general' }),
      ),
    );
    expect(rooms.every((room) => room.name === 'general')).toBe(true);
  });
});

describe('the room directory', () => {
  it('pages by cursor through every matching room once, in name order, signed out', async () => {
    const tag = uniqueName('paged');
    await seedRooms(tag, 25);
    const api = createApiClient(server.apiUrl);
    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof api.rooms.list.query>> = await api.rooms.list.query({
        query: tag,
        limit: 10,
        cursor,
      });
      sizes.push(page.rooms.length);
      seen.push(...page.rooms.map((room) => room.name));
      for (const room of page.rooms) expect(room.online).toBe(0);
      cursor = page.nextCursor;
    } while (cursor);
    expect(sizes).toEqual([10, 10, 5]);
    expect(seen).toEqual(
      Array.from({ length: 25 }, (_, i) => `${tag} ${String(i).padStart(5, '0')}`),
    );
  });

  it('pages 50 rooms by default and at most 100', async () => {
    await seedRooms(uniqueName('many'), 120);
    const api = createApiClient(server.apiUrl);
    const first = await api.rooms.list.query();
    expect(first.rooms).toHaveLength(LIMITS.roomPageDefault);
    expect(first.nextCursor).not.toBeNull();
    const next = await api.rooms.list.query({ cursor: first.nextCursor, limit: 100 });
    expect(next.rooms).toHaveLength(100);
    expect(next.rooms.map((room) => room.id)).not.toContain(first.rooms.at(-1)?.id);
    expect(await failure(api.rooms.list.query({ limit: 101 }))).toEqual({
      code: 'BAD_REQUEST',
      message: 'At most 100 rooms per page',
    });
  });

  it('finds rooms by the start of their name, ignoring case and width', async () => {
    const { token } = await server.fastUser(uniqueName('finder'));
    const api = createApiClient(server.apiUrl, () => token);
    const tag = uniqueName('Q');
    const room = await api.rooms.create.mutate({ name: `${tag} Product Straße` });
    await api.rooms.create.mutate({ name: `${tag} Other` });
    const wide = `${tag} product strasse`
      .toUpperCase()
      .replace(/[!-~]/g, (char) => String.fromCharCode(char.charCodeAt(0) + 0xfee0));
    const { rooms, nextCursor } = await api.rooms.list.query({ query: wide });
    expect(rooms).toEqual([{ ...room, online: 0, unread: 0 }]);
    expect(nextCursor).toBeNull();
  });

  it('refuses a cursor it did not make, and names an unknown room', async () => {
    const api = createApiClient(server.apiUrl);
    expect(await failure(api.rooms.list.query({ cursor: 'not a cursor!' }))).toEqual({
      code: 'BAD_REQUEST',
      message: 'This page cursor is not valid; load the list again from the start',
    });
    expect(await failure(api.rooms.get.query({ id: 'no-such-room' }))).toEqual({
      code: 'NOT_FOUND',
      message: 'There is no room "no-such-room"',
    });
  });

  it('gives a free name whose id is taken by another name an id of its own', async () => {
    const alice = await server.user(uniqueName('slug'));
    const tag = uniqueName('clash').toLowerCase();
    const latin = await alice.rooms.create.mutate({ name: `${tag}` });
    const mixed = await alice.rooms.create.mutate({ name: `日本語 ${tag}` });
    expect(latin.id).toBe(tag);
    expect(mixed.id).toMatch(new RegExp(`^${tag}-[0-9a-z]{10}$`));
    expect(await failure(alice.rooms.create.mutate({ name: `日本語 ${tag}` }))).toEqual({
      code: 'CONFLICT',
      message: `A room named "日本語 ${tag}" already exists`,
    });
  });
});

describe('room creation limits', () => {
  it('lets one user create 10 rooms at once, then asks them to wait', async () => {
    const { token } = await server.fastUser(uniqueName('builder'));
    const api = createApiClient(server.apiUrl, () => token);
    const tag = uniqueName('burst');
    for (let i = 0; i < 10; i++) await api.rooms.create.mutate({ name: `${tag} ${i}` });
    expect(await failure(api.rooms.create.mutate({ name: `${tag} 10` }))).toEqual({
      code: 'TOO_MANY_REQUESTS',
      message: 'You are creating rooms too quickly; wait a few minutes and try again',
    });
    const { token: other } = await server.fastUser(uniqueName('neighbour'));
    await expect(
      createApiClient(server.apiUrl, () => other).rooms.create.mutate({ name: `${tag} other` }),
    ).resolves.toMatchObject({ name: `${tag} other` });
  });

  it('caps the rooms one user owns at 100, exactly, even when asked concurrently', async () => {
    const roomy = await startTestServer({ ROOM_CREATES_BURST: '1000' });
    try {
      const { token } = await roomy.fastUser(uniqueName('hoarder'));
      const api = createApiClient(roomy.apiUrl, () => token);
      const tag = uniqueName('owned');
      const results = await inParallel(
        Array.from({ length: 110 }, (_, i) => `${tag} ${i}`),
        10,
        (name) => {
          const call = api.rooms.create.mutate({ name });
          return call.then(
            () => 'created',
            () => failure(call),
          );
        },
      );
      expect(results.filter((result) => result === 'created')).toHaveLength(100);
      expect(results.filter((result) => result !== 'created')).toEqual(
        Array.from({ length: 10 }, () => ({
          code: 'FORBIDDEN',
          message: 'You have created 100 rooms, the most one person may create',
        })),
      );
      const { rooms } = await api.rooms.list.query({ query: tag, limit: 100 });
      expect(rooms).toHaveLength(100);
    } finally {
      await roomy.stop();
    }
  });
});
