import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { PendingMessage } from '../../client/pendingSends.js';
import type { MessageView } from '../../contract/models.js';
import { DayLabel } from '../time/RelativeTime.js';
import { withDayHeadings } from './dayGroups.js';
import { MessageItem } from './MessageItem.js';
import type { MessageHandlers, Viewer } from './messageActions.js';
import { appendedAfter, newMessagesLabel } from './newMessages.js';
import { PendingItem } from './PendingItem.js';

/** How close to the bottom (px) still counts as reading the latest messages. */
const BOTTOM_SLACK = 48;
/** How close to the top (px) starts loading the previous page. */
const TOP_SLACK = 80;

/**
 * Latest view: follows new messages only while the reader is at the bottom, keeps the reader's
 * place when older messages are added above, and asks for them when the reader nears the top.
 * Messages by others that arrive while the reader is scrolled up are counted on a button that
 * jumps to them; they count as seen once scrolled into view. Days are headed by their date.
 */
export function MessageList({
  messages,
  viewer,
  handlers,
  followLatest,
  hasMore,
  onNearTop,
  onAtEndChange,
  pending = [],
}: {
  messages: MessageView[];
  /** Stable between renders (memoized), like `handlers`: every message re-renders when it changes. */
  viewer: Viewer;
  handlers: MessageHandlers;
  followLatest: boolean;
  hasMore: boolean;
  onNearTop: () => void;
  /** Told whether the reader is at the end of the Latest view (has read everything shown). */
  onAtEndChange?: (atEnd: boolean) => void;
  /** The reader's messages not acknowledged yet, after the rest. */
  pending?: readonly PendingMessage[];
}) {
  const readerId = viewer.reader.id;
  const container = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const reported = useRef<boolean | null>(null);
  const report = useCallback(
    (atEnd: boolean) => {
      if (reported.current === atEnd) return;
      reported.current = atEnd;
      onAtEndChange?.(atEnd);
    },
    [onAtEndChange],
  );
  const previous = useRef({ firstId: '', lastId: '', height: 0 });
  /** Messages by others that arrived below the reader's view, oldest first. */
  const [unseen, setUnseen] = useState<string[]>([]);
  const items = useMemo(
    () =>
      followLatest
        ? withDayHeadings(messages)
        : messages.map((message) => ({ kind: 'message' as const, key: message.id, message })),
    [messages, followLatest],
  );

  useLayoutEffect(() => {
    const element = container.current;
    if (!element) return;
    const firstId = messages[0]?.id ?? '';
    const lastId = messages.at(-1)?.id ?? '';
    const before = previous.current;
    // The Top view's order says nothing about what is new: start over when back in Latest.
    previous.current = followLatest
      ? { firstId, lastId, height: element.scrollHeight }
      : { firstId: '', lastId: '', height: 0 };
    if (!followLatest) return report(false);
    const grewAbove =
      before.firstId !== '' &&
      firstId !== before.firstId &&
      messages.some((m) => m.id === before.firstId);
    const added = appendedAfter(messages, before.lastId);
    if (grewAbove) {
      element.scrollTop += element.scrollHeight - before.height;
    } else if (atBottom.current || added.some((m) => m.author.id === readerId)) {
      // At the bottom, or the reader just sent one: show the latest.
      element.scrollTop = element.scrollHeight;
      atBottom.current = true;
      setUnseen([]);
    } else if (added.length > 0) {
      setUnseen((ids) => [...ids, ...added.map((m) => m.id)]);
    }
    previous.current.height = element.scrollHeight;
    report(atBottom.current);
  }, [messages, followLatest, readerId, report]);

  // The reader just sent one: show it, whatever they were reading.
  const pendingCount = pending.length;
  const lastPendingCount = useRef(pendingCount);
  useLayoutEffect(() => {
    const element = container.current;
    const grew = pendingCount > lastPendingCount.current;
    lastPendingCount.current = pendingCount;
    if (!element || !grew || !followLatest) return;
    element.scrollTop = element.scrollHeight;
    atBottom.current = true;
    setUnseen([]);
    report(true);
  }, [pendingCount, followLatest, report]);

  // A reader at the end stays there when the list changes size (a rotated phone, a panel opening).
  useEffect(() => {
    const element = container.current;
    if (!element || !followLatest || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(() => {
      if (atBottom.current) element.scrollTop = element.scrollHeight;
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, [followLatest]);

  // The count belongs to the Latest view; switching views starts over.
  useLayoutEffect(() => {
    if (!followLatest) setUnseen([]);
  }, [followLatest]);

  const markSeen = (element: HTMLDivElement) => {
    if (atBottom.current) return setUnseen((ids) => (ids.length ? [] : ids));
    const viewBottom = element.getBoundingClientRect().bottom;
    setUnseen((ids) => {
      const stillBelow = ids.findIndex((id) => {
        const item = element.querySelector(`[data-message-id="${id}"]`);
        return item !== null && item.getBoundingClientRect().top >= viewBottom;
      });
      if (stillBelow === 0) return ids;
      return stillBelow < 0 ? [] : ids.slice(stillBelow);
    });
  };

  const onScroll = () => {
    const element = container.current;
    if (!element) return;
    atBottom.current =
      element.scrollHeight - element.scrollTop - element.clientHeight < BOTTOM_SLACK;
    if (followLatest) report(atBottom.current);
    if (unseen.length > 0) markSeen(element);
    if (followLatest && hasMore && element.scrollTop < TOP_SLACK) onNearTop();
  };

  const jumpToNew = () => {
    const element = container.current;
    const first = element?.querySelector(`[data-message-id="${unseen[0]}"]`);
    if (!element || !first) return;
    element.scrollTop +=
      first.getBoundingClientRect().top - element.getBoundingClientRect().top - BOTTOM_SLACK / 2;
    // The button goes away once everything is seen: keep keyboard focus on the messages.
    element.focus({ preventScroll: true });
  };

  const present = unseen.filter((id) => messages.some((m) => m.id === id)).length;

  return (
    <div className="message-pane">
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
        {messages.length === 0 && pending.length === 0 ? (
          <p className="empty muted">No messages yet. Say hello!</p>
        ) : null}
        {items.map((item) =>
          item.kind === 'day' ? (
            <h2 key={item.key} className="day-heading">
              <DayLabel time={item.time} />
            </h2>
          ) : (
            <MessageItem
              key={item.key}
              message={item.message}
              viewer={viewer}
              handlers={handlers}
            />
          ),
        )}
        {pending.map((item) => (
          <PendingItem
            key={item.clientMessageId}
            pending={item}
            author={viewer.reader}
            onRetry={handlers.retry}
            onDiscard={handlers.discard}
          />
        ))}
      </div>
      {present > 0 ? (
        <button type="button" className="button new-messages" onClick={jumpToNew}>
          {newMessagesLabel(present)} <span aria-hidden="true">↓</span>
        </button>
      ) : null}
    </div>
  );
}
