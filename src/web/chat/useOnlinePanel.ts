import { useEffect, useId, useRef, useState } from 'react';

/** From this width the list of people online is a side panel; below it, a popover. */
const WIDE = '(min-width: 1000px)';
const isWide = () => window.matchMedia?.(WIDE).matches ?? true;

/**
 * The online panel's disclosure: open from the start beside wide layouts, on demand over narrow
 * ones, where a click elsewhere closes it as it would any popover. Closing with its own button
 * or Escape returns focus to the toggle.
 */
export function useOnlinePanel() {
  const [open, setOpen] = useState(isWide);
  const toggle = useRef<HTMLButtonElement>(null);
  const panelId = useId();

  useEffect(() => {
    if (!open) return;
    const closeOutside = (event: PointerEvent) => {
      if (isWide()) return;
      const target = event.target as Node;
      const inside = document.getElementById(panelId)?.contains(target);
      if (!inside && !toggle.current?.contains(target)) setOpen(false);
    };
    document.addEventListener('pointerdown', closeOutside);
    return () => document.removeEventListener('pointerdown', closeOutside);
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
