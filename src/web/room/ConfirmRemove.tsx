import { type KeyboardEvent, useEffect, useId, useRef } from 'react';

/**
 * Asks before a message is removed for good. Focus starts on Cancel, the choice that loses
 * nothing; Escape cancels.
 */
export function ConfirmRemove({
  onConfirm,
  onCancel,
}: {
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const cancel = useRef<HTMLButtonElement>(null);
  const box = useRef<HTMLDivElement>(null);
  const id = useId();
  useEffect(() => {
    cancel.current?.focus({ preventScroll: true });
    box.current?.scrollIntoView({ block: 'nearest' });
  }, []);
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key !== 'Escape') return;
    event.preventDefault();
    onCancel();
  };

  return (
    <div
      ref={box}
      className="confirm"
      role="alertdialog"
      aria-labelledby={`${id}-title`}
      aria-describedby={`${id}-text`}
      onKeyDown={onKeyDown}
    >
      <p id={`${id}-title`} className="confirm-title">
        Remove this message?
      </p>
      <p id={`${id}-text`} className="confirm-text">
        Its text is deleted for everyone and cannot be brought back.
      </p>
      <div className="confirm-actions">
        <button ref={cancel} type="button" className="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" className="button button-danger" onClick={onConfirm}>
          Remove
        </button>
      </div>
    </div>
  );
}
