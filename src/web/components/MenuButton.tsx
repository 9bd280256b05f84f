import {
  type KeyboardEvent,
  type RefObject,
  useEffect,
  useId,
  useLayoutEffect,
  useRef,
  useState,
} from 'react';

export interface MenuItem {
  label: string;
  onSelect: () => void;
  /** Shown in the danger colour (removing). */
  danger?: boolean;
}

/**
 * A button that opens a menu of actions, as the ARIA menu button pattern has it: the first item
 * takes focus, arrows (and Home, End) move between items, Escape closes and returns focus to the
 * button, Tab or a click elsewhere closes. Choosing an item closes the menu and returns focus to
 * the button before the action runs, so an action may move focus on to where it continues (an
 * edit box, a confirmation).
 */
export function MenuButton({
  label,
  items,
  icon = '⋯',
  buttonRef,
}: {
  label: string;
  items: MenuItem[];
  icon?: string;
  /** The menu's button, for returning focus to it once an action is done. */
  buttonRef?: RefObject<HTMLButtonElement | null>;
}) {
  const [open, setOpen] = useState(false);
  /** Opens upwards when there is no room below (the last messages of the list). */
  const [upwards, setUpwards] = useState(false);
  const ownButton = useRef<HTMLButtonElement>(null);
  const button = buttonRef ?? ownButton;
  const menu = useRef<HTMLDivElement>(null);
  const id = useId();

  useLayoutEffect(() => {
    const box = menu.current?.getBoundingClientRect();
    const scroller = button.current?.closest('[role="log"]') ?? document.documentElement;
    if (!open || !box) return setUpwards(false);
    const limit = scroller.getBoundingClientRect();
    setUpwards(box.bottom > limit.bottom && box.top - limit.top > box.height);
  }, [open, button]);

  useEffect(() => {
    if (!open) return;
    itemsOf(menu.current)[0]?.focus();
    const closeOutside = (event: PointerEvent) => {
      const target = event.target as Node;
      if (!menu.current?.contains(target) && !button.current?.contains(target)) setOpen(false);
    };
    document.addEventListener('pointerdown', closeOutside);
    return () => document.removeEventListener('pointerdown', closeOutside);
  }, [open, button]);

  const close = () => {
    setOpen(false);
    button.current?.focus();
  };

  const onMenuKeyDown = (event: KeyboardEvent) => {
    if (event.key === 'Tab') return setOpen(false);
    if (event.key === 'Escape') {
      event.preventDefault();
      return close();
    }
    const all = itemsOf(menu.current);
    const next = nextFocus(
      event.key,
      all.indexOf(document.activeElement as HTMLElement),
      all.length,
    );
    if (next === null) return;
    event.preventDefault();
    all[next]?.focus();
  };

  return (
    <div className="menu-anchor">
      <button
        ref={button}
        type="button"
        className="menu-button"
        aria-label={label}
        title={label}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? id : undefined}
        onClick={() => setOpen((was) => !was)}
        onKeyDown={(event) => {
          if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
            event.preventDefault();
            setOpen(true);
          }
        }}
      >
        <span aria-hidden="true">{icon}</span>
      </button>
      {open ? (
        <div
          ref={menu}
          id={id}
          role="menu"
          aria-label={label}
          className={upwards ? 'menu menu-upwards' : 'menu'}
          onKeyDown={onMenuKeyDown}
        >
          {items.map((item) => (
            <button
              key={item.label}
              type="button"
              role="menuitem"
              tabIndex={-1}
              className={item.danger ? 'menu-item menu-item-danger' : 'menu-item'}
              onClick={() => {
                close();
                item.onSelect();
              }}
            >
              {item.label}
            </button>
          ))}
        </div>
      ) : null}
    </div>
  );
}

function itemsOf(menu: HTMLElement | null): HTMLElement[] {
  return [...(menu?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])];
}

/** The item a key moves focus to (wrapping around), or null for a key that moves nothing. */
function nextFocus(key: string, at: number, count: number): number | null {
  switch (key) {
    case 'ArrowDown':
      return (at + 1) % count;
    case 'ArrowUp':
      return (at - 1 + count) % count;
    case 'Home':
      return 0;
    case 'End':
      return count - 1;
    default:
      return null;
  }
}
