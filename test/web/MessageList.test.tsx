// @vitest-environment jsdom
import { cleanup, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { AS_SENT, type MessageView } from '../../src/contract/models.js';
import { MessageList } from '../../src/web/chat/MessageList.js';

afterEach(cleanup);

const message = (id: string, authorId: string, body: string): MessageView => ({
  id,
  roomId: 'general',
  ...AS_SENT,
  author: { id: authorId, username: authorId },
  body,
  createdAt: Date.UTC(2026, 0, 1, 12, 30),
  up: 0,
  down: 0,
  myVote: null,
});

const renderList = (messages: MessageView[]) =>
  render(
    <MessageList
      messages={messages}
      readerId="me"
      followLatest
      hasMore={false}
      onNearTop={() => {}}
      onVote={() => {}}
    />,
  );

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
});
