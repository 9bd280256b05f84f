// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AS_SENT, type MessageView } from '../../src/contract/models.js';
import { OnlinePanel } from '../../src/web/room/OnlinePanel.js';
import { PinnedStrip } from '../../src/web/room/PinnedStrip.js';
import { TypingIndicator } from '../../src/web/room/TypingIndicator.js';

afterEach(cleanup);

const pinned = (id: string, body: string, answered = false): MessageView => ({
  id,
  roomId: 'qa',
  ...AS_SENT,
  pinned: true,
  answered,
  author: { id: 'ada', username: 'ada' },
  body,
  createdAt: 0,
  up: 0,
  down: 0,
  myVote: null,
});

describe('the pinned strip', () => {
  it('is absent without pins', () => {
    render(<PinnedStrip pinned={[]} isShown={() => true} onShow={() => {}} />);
    expect(screen.queryByRole('region')).toBeNull();
  });

  it('lists the pins in order; one shown below brings it into view, one not loaded is text', () => {
    const onShow = vi.fn();
    render(
      <PinnedStrip
        pinned={[pinned('b', 'Slides are online', true), pinned('a', 'Welcome!')]}
        isShown={(id) => id === 'b'}
        onShow={onShow}
      />,
    );
    const strip = screen.getByRole('region', { name: /Pinned/ });
    const items = within(strip).getAllByTestId('pinned-message');
    expect(items.map((item) => item.textContent)).toEqual([
      'adaSlides are online✓ Answered',
      'adaWelcome!',
    ]);
    fireEvent.click(within(items[0] as HTMLElement).getByRole('button'));
    expect(onShow).toHaveBeenCalledWith('b');
    expect(within(items[1] as HTMLElement).queryByRole('button')).toBeNull();
  });
});

describe('the online panel', () => {
  const users = [
    { id: 'ada', username: 'ada' },
    { id: 'me', username: 'me' },
  ];

  it('names who is online, marking the reader and the owner, and counts the unnamed', () => {
    render(
      <OnlinePanel
        id="p"
        online={5}
        users={users}
        readerId="me"
        ownerId="ada"
        onClose={() => {}}
      />,
    );
    const panel = screen.getByRole('complementary', { name: 'Online · 5' });
    const rows = within(panel)
      .getAllByRole('listitem')
      .map((row) => row.textContent);
    expect(rows).toEqual(['adaOwner', 'meYou']);
    expect(within(panel).getByText('and 3 more')).toBeTruthy();
  });

  it('closes from its button', () => {
    const onClose = vi.fn();
    render(
      <OnlinePanel
        id="p"
        online={2}
        users={users}
        readerId="me"
        ownerId={null}
        onClose={onClose}
      />,
    );
    fireEvent.click(screen.getByRole('button', { name: 'Close the list of people online' }));
    expect(onClose).toHaveBeenCalledOnce();
  });
});

describe('the typing line', () => {
  it('speaks politely, and stays in place when nobody types', () => {
    const { rerender } = render(<TypingIndicator users={[{ id: 'ada', username: 'ada' }]} />);
    const line = screen.getByTestId('typing');
    expect(line.getAttribute('aria-live')).toBe('polite');
    expect(line.textContent).toBe('ada is typing…');
    rerender(<TypingIndicator users={[]} />);
    expect(screen.getByTestId('typing').textContent).toBe('');
  });
});
