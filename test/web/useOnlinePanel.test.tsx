// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { useOnlinePanel } from '../../src/web/room/useOnlinePanel.js';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

/** A window as wide or narrow as the test says, telling listeners when that changes. */
function screenWidth(wide: boolean) {
  const listeners = new Set<(event: { matches: boolean }) => void>();
  const query = {
    get matches() {
      return wide;
    },
    addEventListener: (_: string, listener: (event: { matches: boolean }) => void) =>
      listeners.add(listener),
    removeEventListener: (_: string, listener: (event: { matches: boolean }) => void) =>
      listeners.delete(listener),
  };
  vi.stubGlobal('matchMedia', () => query);
  return (next: boolean) =>
    act(() => {
      wide = next;
      for (const listener of listeners) listener({ matches: next });
    });
}

function Room() {
  const panel = useOnlinePanel();
  return (
    <>
      <button ref={panel.toggle} type="button" aria-expanded={panel.open} onClick={panel.flip}>
        online
      </button>
      <p>messages</p>
      {panel.open ? (
        <aside id={panel.panelId}>
          <button type="button" onClick={panel.close}>
            close
          </button>
        </aside>
      ) : null}
    </>
  );
}

const toggle = () => screen.getByRole('button', { name: 'online' });
const isOpen = () => toggle().getAttribute('aria-expanded') === 'true';

describe('the online panel’s disclosure', () => {
  it('starts open beside a wide layout, where clicks elsewhere leave it open', () => {
    screenWidth(true);
    render(<Room />);
    expect(isOpen()).toBe(true);
    fireEvent.pointerDown(screen.getByText('messages'));
    fireEvent.keyDown(document.body, { key: 'Escape' });
    expect(isOpen()).toBe(true);
    fireEvent.click(screen.getByRole('button', { name: 'close' }));
    expect(isOpen()).toBe(false);
    expect(document.activeElement).toBe(toggle());
  });

  it('is a popover on a narrow layout: closed at first, closed by a click elsewhere or Escape', () => {
    screenWidth(false);
    render(<Room />);
    expect(isOpen()).toBe(false);
    fireEvent.click(toggle());
    fireEvent.pointerDown(screen.getByRole('button', { name: 'close' }));
    expect(isOpen(), 'a click inside keeps it').toBe(true);
    fireEvent.pointerDown(screen.getByText('messages'));
    expect(isOpen()).toBe(false);
    fireEvent.click(toggle());
    fireEvent.keyDown(document.body, { key: 'Escape' });
    expect(isOpen()).toBe(false);
    expect(document.activeElement).toBe(toggle());
  });

  it('starts over when the layout crosses from one to the other', () => {
    const resize = screenWidth(true);
    render(<Room />);
    resize(false);
    expect(isOpen()).toBe(false);
    resize(true);
    expect(isOpen()).toBe(true);
  });
});
