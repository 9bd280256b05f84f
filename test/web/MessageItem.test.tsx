// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AS_SENT, type MessageView } from '../../src/contract/models.js';
import { MessageItem } from '../../src/web/room/MessageItem.js';
import type { MessageHandlers, Viewer } from '../../src/web/room/messageActions.js';

afterEach(cleanup);

// jsdom does no layout, so it has no scrolling into view; the browser tests cover that.
beforeAll(() => {
  Element.prototype.scrollIntoView = vi.fn();
});

const T = new Date(2026, 0, 1, 12, 30).getTime();

const message = (overrides: Partial<MessageView> = {}): MessageView => ({
  id: '01J0000000000000000000000A',
  roomId: 'qa',
  ...AS_SENT,
  author: { id: 'ada', username: 'ada' },
  body: 'Is there a recording?',
  createdAt: T,
  up: 2,
  down: 0,
  myVote: null,
  ...overrides,
});

function handlers(
  answers: Partial<Record<'edit' | 'remove' | 'pin' | 'markAnswered', boolean>> = {},
) {
  const answer = (name: keyof typeof answers) => async () => answers[name] ?? true;
  return {
    vote: vi.fn(),
    edit: vi.fn(answer('edit')),
    remove: vi.fn(answer('remove')),
    pin: vi.fn(answer('pin')),
    markAnswered: vi.fn(answer('markAnswered')),
    retry: vi.fn(),
    discard: vi.fn(),
  } satisfies MessageHandlers;
}

function renderItem(shown: MessageView, viewer: Viewer, on = handlers()) {
  const view = render(<MessageItem message={shown} viewer={viewer} handlers={on} />);
  return { ...view, on, article: screen.getByTestId('message') };
}

const menuButton = () => screen.getByRole('button', { name: "Actions for ada's message" });
const menuItems = () => {
  fireEvent.click(menuButton());
  const items = screen.getAllByRole('menuitem').map((item) => item.textContent);
  fireEvent.keyDown(screen.getByRole('menu'), { key: 'Escape' });
  return items;
};
const choose = (name: string) => {
  fireEvent.click(menuButton());
  fireEvent.click(screen.getByRole('menuitem', { name }));
};

describe('what each reader may do to a message', () => {
  it('the author edits and removes; the owner also pins and marks answered', () => {
    renderItem(message(), { reader: { id: 'ada', username: 'ada' }, isOwner: false });
    expect(menuItems()).toEqual(['Edit', 'Remove…']);
    cleanup();
    renderItem(message(), { reader: { id: 'owner', username: 'owner' }, isOwner: true });
    expect(menuItems()).toEqual(['Pin to the top', 'Mark answered', 'Remove…']);
    cleanup();
    renderItem(message({ pinned: true, answered: true }), {
      reader: { id: 'ada', username: 'ada' },
      isOwner: true,
    });
    expect(menuItems()).toEqual(['Edit', 'Unpin', 'Unmark answered', 'Remove…']);
  });

  it('others get no menu at all, and nobody gets one on a removed message', () => {
    renderItem(message(), { reader: { id: 'bo', username: 'bo' }, isOwner: false });
    expect(screen.queryByRole('button', { name: /Actions for/ })).toBeNull();
    cleanup();
    renderItem(message({ removed: true, body: '' }), {
      reader: { id: 'ada', username: 'ada' },
      isOwner: true,
    });
    expect(screen.queryByRole('button', { name: /Actions for/ })).toBeNull();
  });

  it('passes pin and answer changes on to the room', () => {
    const { on } = renderItem(message({ pinned: true }), {
      reader: { id: 'owner', username: 'owner' },
      isOwner: true,
    });
    choose('Unpin');
    expect(on.pin).toHaveBeenCalledWith(expect.objectContaining({ id: message().id }), false);
    choose('Mark answered');
    expect(on.markAnswered).toHaveBeenCalledWith(
      expect.objectContaining({ id: message().id }),
      true,
    );
  });
});

describe('editing a message', () => {
  const editBox = () =>
    screen.getByRole('textbox', { name: 'Edit message' }) as HTMLTextAreaElement;

  it('opens an edit box in place, focused, saved by Enter, then focus returns to the menu', async () => {
    const { on } = renderItem(message(), {
      reader: { id: 'ada', username: 'ada' },
      isOwner: false,
    });
    choose('Edit');
    expect(document.activeElement).toBe(editBox());
    expect(editBox().value).toBe('Is there a recording?');
    fireEvent.change(editBox(), { target: { value: 'Is there a recording of the talk?' } });
    await act(async () => {
      fireEvent.keyDown(editBox(), { key: 'Enter' });
    });
    expect(on.edit).toHaveBeenCalledWith(
      expect.objectContaining({ id: message().id }),
      'Is there a recording of the talk?',
    );
    expect(screen.queryByRole('textbox', { name: 'Edit message' })).toBeNull();
    expect(document.activeElement).toBe(menuButton());
  });

  it('keeps the edit open when the server refuses it, and Escape gives up', async () => {
    renderItem(
      message(),
      { reader: { id: 'ada', username: 'ada' }, isOwner: false },
      handlers({ edit: false }),
    );
    choose('Edit');
    fireEvent.change(editBox(), { target: { value: 'changed' } });
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    });
    expect(editBox().value).toBe('changed');
    fireEvent.keyDown(editBox(), { key: 'Escape' });
    expect(screen.queryByRole('textbox', { name: 'Edit message' })).toBeNull();
    expect(screen.getByText('Is there a recording?')).toBeTruthy();
    expect(document.activeElement).toBe(menuButton());
  });

  it('will not save an unchanged, empty or too long body', () => {
    renderItem(message(), { reader: { id: 'ada', username: 'ada' }, isOwner: false });
    choose('Edit');
    const save = () => screen.getByRole('button', { name: 'Save' }) as HTMLButtonElement;
    expect(save().disabled).toBe(true);
    fireEvent.change(editBox(), { target: { value: ' \u200b ' } });
    expect(save().disabled).toBe(true);
    fireEvent.change(editBox(), { target: { value: 'x'.repeat(2001) } });
    expect(save().disabled).toBe(true);
    expect(editBox().getAttribute('aria-invalid')).toBe('true');
  });

  it('marks an edited message with the time of the edit', () => {
    renderItem(message({ editedAt: T + 60_000 }), {
      reader: { id: 'bo', username: 'bo' },
      isOwner: false,
    });
    const edited = screen.getByText(/edited/);
    expect(edited.querySelector('time')?.getAttribute('dateTime')).toBe(
      new Date(T + 60_000).toISOString(),
    );
  });
});

describe('removing a message', () => {
  it('asks first, with focus on Cancel; Cancel (or Escape) keeps it', () => {
    const { on } = renderItem(message(), {
      reader: { id: 'ada', username: 'ada' },
      isOwner: false,
    });
    choose('Remove…');
    const dialog = screen.getByRole('alertdialog', { name: 'Remove this message?' });
    expect(document.activeElement).toBe(within(dialog).getByRole('button', { name: 'Cancel' }));
    fireEvent.keyDown(dialog, { key: 'Escape' });
    expect(screen.queryByRole('alertdialog')).toBeNull();
    expect(document.activeElement).toBe(menuButton());
    choose('Remove…');
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(on.remove).not.toHaveBeenCalled();
  });

  it('removes on confirmation and leaves focus on the message', async () => {
    const { on, article } = renderItem(message(), {
      reader: { id: 'owner', username: 'owner' },
      isOwner: true,
    });
    choose('Remove…');
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Remove' }));
    });
    expect(on.remove).toHaveBeenCalledWith(expect.objectContaining({ id: message().id }));
    expect(screen.queryByRole('alertdialog')).toBeNull();
    expect(document.activeElement).toBe(article);
  });

  it('shows a removed message as a tombstone with its votes frozen', () => {
    renderItem(message({ removed: true, body: '' }), {
      reader: { id: 'bo', username: 'bo' },
      isOwner: false,
    });
    expect(screen.getByText('Message removed')).toBeTruthy();
    const upvote = screen.getByRole('button', { name: 'Upvote' }) as HTMLButtonElement;
    expect(upvote.disabled).toBe(true);
    expect(upvote.title).toBe('Votes are frozen on a removed message');
    expect(screen.getByTestId('up-count').textContent).toBe('2');
  });
});

describe('marks', () => {
  it('shows pinned and answered messages as such', () => {
    renderItem(message({ pinned: true, answered: true }), {
      reader: { id: 'bo', username: 'bo' },
      isOwner: false,
    });
    expect(screen.getByText('Pinned')).toBeTruthy();
    expect(screen.getByText('✓ Answered')).toBeTruthy();
  });
});
