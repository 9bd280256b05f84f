import { useEffect, useId, useRef, useState } from 'react';

/** From this width the list of people online is a side panel; below it, a popover. */
const WIDE = '(min-width: 1000px)';
const isWide = () => window.matchMedia?.(WIDE).matches ?? true;

/**
 * The online panel's disclosure: open from the start beside wide layouts, on demand over narrow
 * ones, where a click elsewhere closes it as it would any popover; crossing from one layout to the
 * other starts over. Closing with its own button or Escape returns focus to the toggle.
 */
export function useOnlinePanel() {
  const [open, setOpen] = useState(isWide);
  const toggle = useRef<HTMLButtonElement>(null);
  const panelId = useId();

  useEffect(() => {
    const query = window.matchMedia?.(WIDE);
    if (!query) return;
    const follow = (event: MediaQueryListEvent) => setOpen(event.matches);
    query.addEventListener('change', follow);
    return () => query.removeEventListener('change', follow);
  }, []);

  useEffect(() => {
    if (!open) return;
    const inPanel = (node: Node | null) =>
      !!node && !!document.getElementById(panelId)?.contains(node);
    const closeOutside = (event: PointerEvent) => {
      const target = event.target as Node;
      if (!isWide() && !inPanel(target) && !toggle.current?.contains(target)) setOpen(false);
    };
    // A popover closes on Escape wherever focus is; the side panel only from inside it.
    const closeOnEscape = (event: KeyboardEvent) => {
      if (event.key !== 'Escape' || (isWide() && !inPanel(document.activeElement))) return;
      setOpen(false);
      toggle.current?.focus();
    };
    document.addEventListener('pointerdown', closeOutside);
    document.addEventListener('keydown', closeOnEscape);
    return () => {
      document.removeEventListener('pointerdown', closeOutside);
      document.removeEventListener('keydown', closeOnEscape);
    };
  }, [open, panelId]);

  return {
    open,
    panelId,
    toggle,
    flip: () => setOpen((was) => !was),
    close: () => {
      setOpen(false);
      toggle.current?.focus();
    },
  };
}
