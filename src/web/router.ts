import { useSyncExternalStore } from 'react';

/** The app's two places: the room list, and one room. Paths: `/` and `/rooms/<id>`. */
export type Route = { name: 'rooms' } | { name: 'room'; roomId: string };

export function parseRoute(pathname: string): Route {
  const match = /^\/rooms\/([a-z0-9-]{1,64})\/?$/.exec(pathname);
  return match?.[1] ? { name: 'room', roomId: match[1] } : { name: 'rooms' };
}

export function hrefFor(route: Route): string {
  return route.name === 'room' ? `/rooms/${route.roomId}` : '/';
}

export function navigate(route: Route): void {
  window.history.pushState(null, '', hrefFor(route));
  window.dispatchEvent(new PopStateEvent('popstate'));
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener('popstate', onChange);
  return () => window.removeEventListener('popstate', onChange);
}

export function usePathname(): string {
  return useSyncExternalStore(subscribe, () => window.location.pathname);
}
