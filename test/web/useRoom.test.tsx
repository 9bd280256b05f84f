// @vitest-environment jsdom
import { act, cleanup, renderHook, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useRoom } from '../../src/client/react.js';
import { AS_SENT } from '../../src/contract/models.js';
import { fakeServer, serverError } from '../helpers/fakeChatServer.js';

/** The React hook of chathub-client/react, on a fake chat server (test/helpers/fakeChatServer.ts). */

let server: ReturnType<typeof fakeServer>;
beforeEach(() => {
  server = fakeServer();
});
afterEach(cleanup);

const message = (id: string) => ({
  id,
  roomId: 'general',
  ...AS_SENT,
  author: { id: 'author', username: 'author' },
  body: id,
  createdAt: 0,
  up: 0,
  down: 0,
  myVote: null,
});

function renderRoom(roomId = 'general') {
  return renderHook(({ room }) => useRoom(server.client, room, 'me'), {
    initialProps: { room: roomId },
  });
}

describe('useRoom', () => {
  it('shows the room as its follower sees it, from loading to live', async () => {
    const { result } = renderRoom();
    expect(result.current.status).toEqual({ state: 'connecting' });
    expect(result.current.loaded).toBe(false);
    await waitFor(() => expect(server.feeds).toHaveLength(1));

    act(() => {
      server
        .latest()
        .emit(1, { type: 'snapshot', messages: [message('a')], hasMore: false, pinned: [] });
      server.latest().emit(1, { type: 'presence', online: 3, users: [] });
    });
    expect(result.current.status).toEqual({ state: 'live' });
    expect(result.current.messages.map((m) => m.id)).toEqual(['a']);
    expect(result.current.online).toBe(3);

    act(() => server.latest().fail(serverError('NOT_FOUND', 'There is no room "general"')));
    expect(result.current.status).toEqual({
      state: 'ended',
      code: 'NOT_FOUND',
      reason: 'There is no room "general"',
    });
  });

  it('says in words why a message was refused, until it is dismissed or a send or retry goes through', async () => {
    const { result } = renderRoom();
    await waitFor(() => expect(server.feeds).toHaveLength(1));

    let sent: Promise<boolean> = Promise.resolve(true);
    act(() => {
      sent = result.current.send('too fast');
    });
    expect(result.current.sending).toBe(true);
    await waitFor(() => expect(server.requests).toHaveLength(1));
    await act(async () => {
      server.request('chat.send').fail(serverError('TOO_MANY_REQUESTS', 'Slow down a little'));
      expect(await sent).toBe(false);
    });
    expect(result.current.sending).toBe(false);
    expect(result.current.error).toBe('Slow down a little');
    act(() => result.current.dismissError());
    expect(result.current.error).toBeNull();

    await act(async () => {
      sent = result.current.send('again');
    });
    await act(async () => {
      server.request('chat.send').fail(serverError('TOO_MANY_REQUESTS', 'Still too fast'));
      await sent;
    });
    expect(result.current.error).toBe('Still too fast');
    const [failed] = result.current.pending;
    expect(failed?.status).toBe('failed');
    await act(async () => {
      sent = result.current.retry(failed?.clientMessageId ?? '');
    });
    await act(async () => {
      server.request('chat.send').answer(message('b'));
      expect(await sent).toBe(true);
    });
    expect(result.current.error).toBeNull();
  });

  it('lists a message as pending until the feed brings it, and words refused moderation', async () => {
    const { result } = renderRoom();
    await waitFor(() => expect(server.feeds).toHaveLength(1));
    act(() => {
      server.latest().emit(1, { type: 'snapshot', messages: [], hasMore: false, pinned: [] });
    });
    let sent: Promise<boolean> = Promise.resolve(false);
    act(() => {
      sent = result.current.send('hello');
    });
    expect(result.current.pending).toEqual([expect.objectContaining({ body: 'hello' })]);
    const { clientMessageId } = result.current.pending[0] ?? { clientMessageId: '' };
    await waitFor(() => expect(server.requests).toHaveLength(1));
    const echoed = { ...message('m'), author: { id: 'me', username: 'me' }, clientMessageId };
    await act(async () => {
      server.request('chat.send').answer(echoed);
      expect(await sent).toBe(true);
    });
    act(() => {
      const { myVote: _, ...plain } = echoed;
      server.latest().emit(2, { type: 'message', message: plain });
    });
    expect(result.current.pending).toEqual([]);
    expect(result.current.messages.map((m) => m.id)).toEqual(['m']);

    let pinned: Promise<boolean> = Promise.resolve(true);
    act(() => {
      pinned = result.current.pin('m', true);
      result.current.sendTyping();
      result.current.markRead();
    });
    await waitFor(() => expect(server.requests).toHaveLength(3));
    expect(server.requests.map((r) => r.path).sort()).toEqual([
      'chat.markRead',
      'chat.pin',
      'chat.typing',
    ]);
    await act(async () => {
      server
        .request('chat.pin')
        .fail(serverError('FORBIDDEN', "Only the room's owner, ada, can pin messages"));
      expect(await pinned).toBe(false);
    });
    expect(result.current.error).toBe("Only the room's owner, ada, can pin messages");
  });

  it('follows another room when the room changes, and stops following on unmount', async () => {
    const { rerender, unmount } = renderRoom('general');
    await waitFor(() => expect(server.feeds).toHaveLength(1));
    rerender({ room: 'rust-fans' });
    await waitFor(() => expect(server.feeds).toHaveLength(2));
    expect(server.feeds[0]?.unsubscribed).toBe(true);
    expect(server.latest().input.roomId).toBe('rust-fans');
    unmount();
    expect(server.latest().unsubscribed).toBe(true);
  });
});
