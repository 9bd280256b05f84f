import { type FormEvent, type KeyboardEvent, useState } from 'react';
import { LIMITS } from '../../contract/limits.js';
import { hasVisibleText } from '../../contract/text.js';

/**
 * Enter sends, Shift+Enter starts a new line. The text stays if sending fails. Every change that
 * leaves text in the box tells `onTyping` (the room throttles what it sends on).
 */
export function Composer({
  onSend,
  onTyping,
  disabled,
}: {
  onSend: (body: string) => Promise<boolean>;
  onTyping?: () => void;
  disabled: boolean;
}) {
  const [body, setBody] = useState('');
  const length = body.trim().length;
  const empty = !hasVisibleText(body);
  const tooLong = length > LIMITS.messageMax;

  const submit = async () => {
    if (empty || tooLong || disabled) return;
    if (await onSend(body)) setBody('');
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      void submit();
    }
  };

  return (
    <form
      className="composer"
      onSubmit={(event: FormEvent) => {
        event.preventDefault();
        void submit();
      }}
    >
      <label htmlFor="composer-input" className="visually-hidden">
        Message
      </label>
      <textarea
        id="composer-input"
        rows={2}
        value={body}
        placeholder="Write a message…"
        title="Enter sends; Shift+Enter starts a new line"
        onChange={(event) => {
          setBody(event.target.value);
          if (hasVisibleText(event.target.value)) onTyping?.();
        }}
        onKeyDown={onKeyDown}
        aria-describedby="composer-count"
        aria-invalid={tooLong || undefined}
      />
      <div className="composer-side">
        <span id="composer-count" className={tooLong ? 'count count-over' : 'count'}>
          {length}/{LIMITS.messageMax}
        </span>
        <button
          type="submit"
          className="button button-primary"
          disabled={empty || tooLong || disabled}
        >
          Send
        </button>
      </div>
    </form>
  );
}
