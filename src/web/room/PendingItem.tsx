import type { PendingMessage } from '../../client/pendingSends.js';
import type { PublicUser } from '../../contract/models.js';

/**
 * A message of the reader's that the server has not acknowledged yet: "Sending…", or why it was
 * not sent with Retry (same id, so it never posts twice) and Discard.
 */
export function PendingItem({
  pending,
  author,
  onRetry,
  onDiscard,
}: {
  pending: PendingMessage;
  author: PublicUser;
  onRetry: (clientMessageId: string) => void;
  onDiscard: (clientMessageId: string) => void;
}) {
  const failed = pending.status === 'failed';
  return (
    <article
      className={
        failed ? 'message message-own message-failed' : 'message message-own message-pending'
      }
      data-testid="pending-message"
      aria-label={`Your message, ${failed ? 'not sent' : 'sending'}`}
    >
      <div className="message-meta">
        <span className="message-author">{author.username}</span>
        <span className="badge">You</span>
        <span className={failed ? 'pending-status pending-failed' : 'pending-status'} role="status">
          {failed ? `Not sent: ${pending.error ?? 'something went wrong'}` : 'Sending…'}
        </span>
      </div>
      <p className="message-body">{pending.body}</p>
      {failed ? (
        <div className="message-side pending-actions">
          <button type="button" className="button" onClick={() => onRetry(pending.clientMessageId)}>
            Retry
          </button>
          <button
            type="button"
            className="button button-quiet"
            onClick={() => onDiscard(pending.clientMessageId)}
          >
            Discard
          </button>
        </div>
      ) : null}
    </article>
  );
}
