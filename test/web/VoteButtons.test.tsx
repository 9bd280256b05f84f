// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { VoteButtons } from '../../src/web/room/VoteButtons.js';

afterEach(cleanup);

describe('VoteButtons', () => {
  it('shows both counts and marks the reader’s own vote as pressed', () => {
    render(<VoteButtons message={{ up: 3, down: 1, myVote: 'down' }} onVote={() => {}} />);
    expect(screen.getByTestId('up-count').textContent).toBe('3');
    expect(screen.getByTestId('down-count').textContent).toBe('1');
    expect(screen.getByRole('button', { name: 'Upvote' }).getAttribute('aria-pressed')).toBe(
      'false',
    );
    expect(screen.getByRole('button', { name: 'Downvote' }).getAttribute('aria-pressed')).toBe(
      'true',
    );
  });

  it('reports which button was clicked', () => {
    const onVote = vi.fn();
    render(<VoteButtons message={{ up: 0, down: 0, myVote: null }} onVote={onVote} />);
    fireEvent.click(screen.getByRole('button', { name: 'Upvote' }));
    fireEvent.click(screen.getByRole('button', { name: 'Downvote' }));
    expect(onVote.mock.calls).toEqual([['up'], ['down']]);
  });
});
