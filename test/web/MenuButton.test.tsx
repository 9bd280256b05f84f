// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MenuButton } from '../../src/web/components/MenuButton.js';

afterEach(cleanup);

function renderMenu() {
  const chosen = vi.fn();
  render(
    <>
      <MenuButton
        label="Actions for ada's message"
        items={['Edit', 'Pin to the top', 'Remove…'].map((label) => ({
          label,
          onSelect: () => chosen(label),
        }))}
      />
      <p>elsewhere</p>
    </>,
  );
  const button = screen.getByRole('button', { name: "Actions for ada's message" });
  return { button, chosen };
}

const focusedText = () => document.activeElement?.textContent;

describe('MenuButton', () => {
  it('opens on click with the first item focused, and says it is expanded', () => {
    const { button } = renderMenu();
    expect(button.getAttribute('aria-haspopup')).toBe('menu');
    expect(button.getAttribute('aria-expanded')).toBe('false');
    expect(screen.queryByRole('menu')).toBeNull();
    fireEvent.click(button);
    expect(button.getAttribute('aria-expanded')).toBe('true');
    const menu = screen.getByRole('menu', { name: "Actions for ada's message" });
    expect(button.getAttribute('aria-controls')).toBe(menu.id);
    expect(focusedText()).toBe('Edit');
  });

  it('moves between items with the arrows, Home and End, wrapping around', () => {
    const { button } = renderMenu();
    fireEvent.keyDown(button, { key: 'ArrowDown' });
    const menu = screen.getByRole('menu');
    fireEvent.keyDown(menu, { key: 'ArrowDown' });
    expect(focusedText()).toBe('Pin to the top');
    fireEvent.keyDown(menu, { key: 'End' });
    expect(focusedText()).toBe('Remove…');
    fireEvent.keyDown(menu, { key: 'ArrowDown' });
    expect(focusedText()).toBe('Edit');
    fireEvent.keyDown(menu, { key: 'ArrowUp' });
    expect(focusedText()).toBe('Remove…');
    fireEvent.keyDown(menu, { key: 'Home' });
    expect(focusedText()).toBe('Edit');
  });

  it('closes on Escape with focus back on its button, and on a click elsewhere', () => {
    const { button } = renderMenu();
    fireEvent.click(button);
    fireEvent.keyDown(screen.getByRole('menu'), { key: 'Escape' });
    expect(screen.queryByRole('menu')).toBeNull();
    expect(document.activeElement).toBe(button);
    fireEvent.click(button);
    fireEvent.pointerDown(screen.getByText('elsewhere'));
    expect(screen.queryByRole('menu')).toBeNull();
  });

  it('runs the chosen item with focus back on the button, and closes', () => {
    const { button, chosen } = renderMenu();
    fireEvent.click(button);
    let focusedWhenRun: Element | null = null;
    chosen.mockImplementation(() => {
      focusedWhenRun = document.activeElement;
    });
    fireEvent.click(screen.getByRole('menuitem', { name: 'Pin to the top' }));
    expect(chosen).toHaveBeenCalledExactlyOnceWith('Pin to the top');
    expect(focusedWhenRun).toBe(button);
    expect(screen.queryByRole('menu')).toBeNull();
  });

  it('opens upwards when the list has no room for it below its button', () => {
    render(
      <div role="log">
        <MenuButton label="Actions" items={[{ label: 'Edit', onSelect: () => {} }]} />
      </div>,
    );
    // The list ends at 500 px; a menu 120 px tall would open from 450 to 570.
    vi.spyOn(HTMLElement.prototype, 'getBoundingClientRect').mockImplementation(function (
      this: HTMLElement,
    ) {
      const box = this.getAttribute('role') === 'menu' ? [450, 120] : [0, 500];
      return DOMRect.fromRect({ x: 0, y: box[0], width: 200, height: box[1] });
    });
    fireEvent.click(screen.getByRole('button', { name: 'Actions' }));
    expect(screen.getByRole('menu').className).toBe('menu menu-upwards');
    vi.restoreAllMocks();
  });
});
