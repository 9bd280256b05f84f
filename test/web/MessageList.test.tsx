// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AS_SENT, type MessageView } from '../../src/contract/models.js';
import { MessageList } from '../../src/web/room/MessageList.js';
import type { MessageHandlers } from '../../src/web/room/messageActions.js';

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

const NOON = new Date(2026, 0, 1, 12, 30).getTime();

const message = (id: string, authorId: string, body: string, createdAt = NOON): MessageView => ({
  id,
  roomId: 'general',
  ...AS_SENT,
  author: { id: authorId, username: authorId },
  body,
  createdAt,
  up: 0,
  down: 0,
  myVote: null,
});

const handlers: MessageHandlers = {
  vote: () => {},
  edit: async () => true,
  remove: async () => true,
  pin: async () => true,
  markAnswered: async () => true,
  retry: () => {},
  discard: () => {},
};

const listProps = (messages: MessageView[], followLatest = true) => ({
  messages,
  viewer: { reader: { id: 'me', username: 'me' }, isOwner: false },
  handlers,
  followLatest,
  hasMore: false,
  onNearTop: () => {},
});

const renderList = (messages: MessageView[], followLatest = true) =>
  render(<MessageList {...listProps(messages, followLatest)} />);

describe('MessageList', () => {
  it('marks the reader’s own messages and shows each author', () => {
    renderList([message('1', 'me', 'mine'), message('2', 'bob', 'theirs')]);
    const [mine, theirs] = screen.getAllByTestId('message');
    expect(mine?.getAttribute('data-own')).toBe('true');
    expect(within(mine as HTMLElement).getByText('You')).toBeTruthy();
    expect(theirs?.getAttribute('data-own')).toBe('false');
    expect(within(theirs as HTMLElement).getByText('bob')).toBeTruthy();
  });

  it('shows message text as text, never as markup', () => {
    renderList([message('1', 'bob', '<img src=x onerror=alert(1)><b>bold?</b>')]);
    const article = screen.getByTestId('message');
    expect(article.querySelector('img, b')).toBeNull();
    expect(within(article).getByText('<img src=x onerror=alert(1)><b>bold?</b>')).toBeTruthy();
  });

  it('invites the first message in an empty room', () => {
    renderList([]);
    expect(screen.getByText('No messages yet. Say hello!')).toBeTruthy();
  });

  it('heads each day of the Latest view with its date, and none in the Top view', () => {
    vi.spyOn(Date, 'now').mockReturnValue(NOON + 60 * 60_000);
    const yesterday = NOON - 24 * 60 * 60_000;
    const messages = [
      message('1', 'bob', 'old', yesterday - 60_000),
      message('2', 'bob', 'older reply', yesterday),
      message('3', 'bob', 'today', NOON),
      message('4', 'bob', 'today again', NOON + 60_000),
    ];
    const { container, rerender } = renderList(messages);
    const order = [...container.querySelectorAll('h2, article')].map((node) =>
      node.tagName === 'H2' ? `[${node.textContent}]` : node.querySelector('p')?.textContent,
    );
    expect(order).toEqual(['[Yesterday]', 'old', 'older reply', '[Today]', 'today', 'today again']);
    expect(
      screen
        .getAllByRole('heading', { level: 2 })[0]
        ?.querySelector('time')
        ?.getAttribute('dateTime'),
    ).toBe('2025-12-31');
    rerender(<MessageList {...listProps(messages, false)} />);
    expect(screen.queryAllByRole('heading', { level: 2 })).toEqual([]);
  });
});

/**
 * jsdom does no layout: this gives the list one of its own. Every message is 100 px tall, the
 * list shows 300 px, and element positions follow the list's scrollTop.
 */
function fakeLayout(log: HTMLElement) {
  const ROW = 100;
  const VIEW = 300;
  const rows = () => [...log.querySelectorAll('[data-message-id]')];
  Object.defineProperty(log, 'clientHeight', { configurable: true, get: () => VIEW });
  Object.defineProperty(log, 'scrollHeight', {
    configurable: true,
    get: () => rows().length * ROW,
  });
  vi.spyOn(HTMLElement.prototype, 'getBoundingClientRect').mockImplementation(function (
    this: HTMLElement,
  ) {
    const index = rows().indexOf(this);
    const top = this === log ? 0 : index * ROW - log.scrollTop;
    return DOMRect.fromRect({ x: 0, y: top, width: 300, height: this === log ? VIEW : ROW });
  });
  return {
    scrollTo(top: number) {
      log.scrollTop = top;
      fireEvent.scroll(log);
    },
    bottom: () => log.scrollHeight - VIEW,
  };
}

describe('the new messages button', () => {
  const history = Array.from({ length: 10 }, (_, i) => message(`m${i}`, 'bob', `history ${i}`));
  const newButton = () => screen.queryByRole('button', { name: /new message/ });

  function scrolledUp() {
    const view = render(<MessageList {...listProps(history)} />);
    const log = screen.getByRole('log', { name: 'Messages' });
    const layout = fakeLayout(log);
    layout.scrollTo(200);
    const show = (messages: MessageView[]) =>
      view.rerender(<MessageList {...listProps(messages)} />);
    return { log, layout, show };
  }

  it('counts messages by others that arrive while the reader is scrolled up', () => {
    const { show } = scrolledUp();
    expect(newButton()).toBeNull();
    show([...history, message('n1', 'bob', 'new 1')]);
    expect(newButton()?.textContent).toMatch(/^1 new message\b/);
    show([...history, message('n1', 'bob', 'new 1'), message('n2', 'carol', 'new 2')]);
    expect(newButton()?.textContent).toMatch(/^2 new messages\b/);
  });

  it('counts down as they scroll into view, and disappears at the bottom', () => {
    const { layout, show } = scrolledUp();
    const added = [1, 2, 3].map((i) => message(`n${i}`, 'bob', `new ${i}`));
    show([...history, ...added]);
    expect(newButton()?.textContent).toMatch(/^3 new messages/);
    // Rows are 100 px: at 850 the view ends at 1150, past the top of n1 (1000) and n2 (1100).
    layout.scrollTo(850);
    expect(newButton()?.textContent).toMatch(/^1 new message\b/);
    layout.scrollTo(layout.bottom());
    expect(newButton()).toBeNull();
  });

  it('jumps to the first new message and keeps keyboard focus on the messages', () => {
    const { log, show } = scrolledUp();
    show([...history, message('n1', 'bob', 'new 1'), message('n2', 'bob', 'new 2')]);
    act(() => newButton()?.click());
    // n1's top (1000) sits just under the top of the view, minus a little context.
    expect(log.scrollTop).toBe(1000 - 24);
    expect(document.activeElement).toBe(log);
    fireEvent.scroll(log);
    expect(newButton()).toBeNull();
  });

  it('follows the reader’s own message to the bottom instead of counting it', () => {
    const { log, layout, show } = scrolledUp();
    show([...history, message('n1', 'bob', 'new 1'), message('mine', 'me', 'my answer')]);
    expect(log.scrollTop).toBe(layout.bottom() + 300);
    expect(newButton()).toBeNull();
  });

  it('never counts older pages added above, nor a vote changing a message', () => {
    const { show } = scrolledUp();
    show([message('old', 'bob', 'older page'), ...history]);
    show([message('old', 'bob', 'older page'), ...history.map((m) => ({ ...m, up: 1 }))]);
    expect(newButton()).toBeNull();
  });

  it('tells when the reader reaches the end of the Latest view, and leaves it', () => {
    const onAtEndChange = vi.fn();
    const props = { ...listProps(history), onAtEndChange };
    const view = render(<MessageList {...props} />);
    expect(onAtEndChange.mock.calls).toEqual([[true]]);
    const layout = fakeLayout(screen.getByRole('log', { name: 'Messages' }));
    layout.scrollTo(200);
    layout.scrollTo(100);
    layout.scrollTo(layout.bottom());
    expect(onAtEndChange.mock.calls).toEqual([[true], [false], [true]]);
    view.rerender(<MessageList {...props} followLatest={false} />);
    expect(onAtEndChange.mock.calls.at(-1)).toEqual([false]);
  });

  it('shows the reader’s pending messages last, and follows them to the bottom', () => {
    const retry = vi.fn();
    const props = { ...listProps(history), handlers: { ...handlers, retry } };
    const view = render(<MessageList {...props} />);
    const log = screen.getByRole('log', { name: 'Messages' });
    fakeLayout(log).scrollTo(100);
    const pending = [
      { clientMessageId: 'c1', body: 'on its way', status: 'sending' as const, error: null },
      { clientMessageId: 'c2', body: 'refused', status: 'failed' as const, error: 'Slow down' },
    ];
    view.rerender(<MessageList {...props} pending={pending} />);
    expect(log.scrollTop).toBe(log.scrollHeight);
    const [sending, failed] = screen.getAllByTestId('pending-message');
    expect(sending?.textContent).toContain('Sending…');
    expect(failed?.textContent).toContain('Not sent: Slow down');
    expect(screen.getAllByRole('article').at(-1)).toBe(failed);
    fireEvent.click(within(failed as HTMLElement).getByRole('button', { name: 'Retry' }));
    expect(retry).toHaveBeenCalledWith('c2');
  });
});
