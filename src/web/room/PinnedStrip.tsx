import type { MessageView } from '../../contract/models.js';

/**
 * The room's pinned messages, newest pin first, above the list. A pin whose message is shown in
 * the list below is a button that brings it into view.
 */
export function PinnedStrip({
  pinned,
  isShown,
  onShow,
}: {
  pinned: MessageView[];
  isShown: (messageId: string) => boolean;
  onShow: (messageId: string) => void;
}) {
  if (pinned.length === 0) return null;
  return (
    <section className="pinned" aria-labelledby="pinned-title">
      <h2 id="pinned-title" className="pinned-title">
        Pinned
        {pinned.length > 1 ? <span className="muted"> ({pinned.length})</span> : null}
      </h2>
      <ul className="pinned-list">
        {pinned.map((message) => {
          const content = (
            <>
              <span className="pinned-author">{message.author.username}</span>
              <span className="pinned-body">{message.body}</span>
              {message.answered ? <span className="badge badge-answered">✓ Answered</span> : null}
            </>
          );
          return (
            <li key={message.id} data-testid="pinned-message">
              {isShown(message.id) ? (
                <button
                  type="button"
                  className="pinned-item"
                  title="Show this message in the room"
                  onClick={() => onShow(message.id)}
                >
                  {content}
                </button>
              ) : (
                <div className="pinned-item">{content}</div>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
