import { useLayoutEffect, useRef } from 'react';
import type { MessageView } from '../../contract/models.js';
import { MessageItem } from './MessageItem.js';
import type { Vote } from './votes.js';

/** How close to the bottom (px) still counts as reading the latest messages. */
const BOTTOM_SLACK = 48;
/** How close to the top (px) starts loading the previous page. */
const TOP_SLACK = 80;

/**
 * Latest view: follows new messages only while the reader is at the bottom, keeps the reader's
 * place when older messages are added above, and asks for them when the reader nears the top.
 */
export function MessageList({
  messages,
  readerId,
  followLatest,
  hasMore,
  onNearTop,
  onVote,
}: {
  messages: MessageView[];
  readerId: string;
  followLatest: boolean;
  hasMore: boolean;
  onNearTop: () => void;
  onVote: (message: MessageView, clicked: Vote) => void;
}) {
  const container = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const previous = useRef({ firstId: '', height: 0 });

  useLayoutEffect(() => {
    const element = container.current;
    if (!element) return;
    const firstId = messages[0]?.id ?? '';
    const { firstId: lastFirstId, height: lastHeight } = previous.current;
    const grewAbove =
      lastFirstId !== '' && firstId !== lastFirstId && messages.some((m) => m.id === lastFirstId);
    if (followLatest && grewAbove) {
      element.scrollTop += element.scrollHeight - lastHeight;
    } else if (followLatest && atBottom.current) {
      element.scrollTop = element.scrollHeight;
    }
    previous.current = { firstId, height: element.scrollHeight };
  }, [messages, followLatest]);

  const onScroll = () => {
    const element = container.current;
    if (!element) return;
    atBottom.current =
      element.scrollHeight - element.scrollTop - element.clientHeight < BOTTOM_SLACK;
    if (followLatest && hasMore && element.scrollTop < TOP_SLACK) onNearTop();
  };

  return (
    <div
      className="message-list"
      ref={container}
      onScroll={onScroll}
      role="log"
      aria-label="Messages"
      // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard to scroll it
      tabIndex={0}
    >
      {followLatest && hasMore ? (
        <button type="button" className="button button-quiet load-older" onClick={onNearTop}>
          Load earlier messages
        </button>
      ) : null}
      {messages.length === 0 ? <p className="empty muted">No messages yet. Say hello!</p> : null}
      {messages.map((message) => (
        <MessageItem
          key={message.id}
          message={message}
          own={message.author.id === readerId}
          onVote={onVote}
        />
      ))}
    </div>
  );
}
