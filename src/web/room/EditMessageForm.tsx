import { type KeyboardEvent, useEffect, useId, useRef, useState } from 'react';
import { LIMITS } from '../../contract/limits.js';
import { hasVisibleText } from '../../contract/text.js';

/**
 * Edits a message in place: Enter saves, Shift+Enter starts a new line, Escape cancels. The text
 * stays while saving fails.
 */
export function EditMessageForm({
  body,
  onSave,
  onCancel,
}: {
  body: string;
  onSave: (body: string) => Promise<boolean>;
  onCancel: () => void;
}) {
  const [draft, setDraft] = useState(body);
  const [saving, setSaving] = useState(false);
  const input = useRef<HTMLTextAreaElement>(null);
  const form = useRef<HTMLFormElement>(null);
  const id = useId();
  const tooLong = draft.trim().length > LIMITS.messageMax;
  const unusable = !hasVisibleText(draft) || tooLong || draft.trim() === body.trim();

  useEffect(() => {
    const element = input.current;
    if (!element) return;
    element.focus({ preventScroll: true });
    element.setSelectionRange(element.value.length, element.value.length);
    // The whole form, buttons included, even at the bottom of the list.
    form.current?.scrollIntoView({ block: 'nearest' });
  }, []);

  const save = async () => {
    if (unusable || saving) return;
    setSaving(true);
    const saved = await onSave(draft);
    if (!saved) setSaving(false);
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      onCancel();
    } else if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      void save();
    }
  };

  return (
    <form
      ref={form}
      className="edit-form"
      onSubmit={(event) => {
        event.preventDefault();
        void save();
      }}
    >
      <label htmlFor={id} className="visually-hidden">
        Edit message
      </label>
      <textarea
        id={id}
        ref={input}
        rows={2}
        value={draft}
        title="Enter saves; Shift+Enter starts a new line; Escape cancels"
        aria-invalid={tooLong || undefined}
        onChange={(event) => setDraft(event.target.value)}
        onKeyDown={onKeyDown}
      />
      <div className="edit-actions">
        <button type="button" className="button button-quiet" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="button button-primary" disabled={unusable || saving}>
          Save
        </button>
      </div>
    </form>
  );
}
