// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Composer } from '../../src/web/room/Composer.js';

afterEach(cleanup);

const textbox = () => screen.getByRole('textbox', { name: 'Message' }) as HTMLTextAreaElement;

describe('Composer', () => {
  it('sends on Enter and clears, but Shift+Enter only starts a new line', async () => {
    const onSend = vi.fn(async () => true);
    render(<Composer onSend={onSend} disabled={false} />);
    fireEvent.change(textbox(), { target: { value: 'first line' } });
    fireEvent.keyDown(textbox(), { key: 'Enter', shiftKey: true });
    expect(onSend).not.toHaveBeenCalled();
    await act(async () => {
      fireEvent.keyDown(textbox(), { key: 'Enter' });
    });
    expect(onSend).toHaveBeenCalledWith('first line');
    expect(textbox().value).toBe('');
  });

  it('keeps the text when sending fails, and refuses empty or too long messages', async () => {
    const onSend = vi.fn(async () => false);
    render(<Composer onSend={onSend} disabled={false} />);
    fireEvent.change(textbox(), { target: { value: '   ' } });
    expect(screen.getByRole('button', { name: 'Send' }).hasAttribute('disabled')).toBe(true);
    fireEvent.change(textbox(), { target: { value: '\u200b\u200d\ufeff' } });
    expect(screen.getByRole('button', { name: 'Send' }).hasAttribute('disabled')).toBe(true);
    fireEvent.change(textbox(), { target: { value: 'x'.repeat(2001) } });
    expect(screen.getByRole('button', { name: 'Send' }).hasAttribute('disabled')).toBe(true);
    expect(screen.getByText('2001/2000')).toBeTruthy();
    fireEvent.change(textbox(), { target: { value: 'will fail' } });
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Send' }));
    });
    expect(onSend).toHaveBeenCalledWith('will fail');
    expect(textbox().value).toBe('will fail');
  });

  it('tells the room the reader is typing, only while there is text', () => {
    const onTyping = vi.fn();
    render(<Composer onSend={async () => true} onTyping={onTyping} disabled={false} />);
    fireEvent.change(textbox(), { target: { value: 'h' } });
    fireEvent.change(textbox(), { target: { value: 'hi' } });
    fireEvent.change(textbox(), { target: { value: '' } });
    fireEvent.change(textbox(), { target: { value: '  ' } });
    expect(onTyping).toHaveBeenCalledTimes(2);
  });
});
