import type { ChatServerRegistration, Discovery } from './discovery.js';

const HOST_HEADER = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

const UNLISTED: ChatServerRegistration = {
  loadChanged() {},
  async deregister() {},
};

/**
 * One known chat server. Without a configured URL (ROLE=all on a laptop) it points the client at
 * the host it already used, so the WebSocket works from localhost and from the LAN alike. There is
 * nothing to register with: the one chat server is known by configuration.
 */
export function createStaticDiscovery(url: string | undefined, fallbackHost: string): Discovery {
  return {
    async chatUrl(requestHost) {
      if (url) return url;
      const host = requestHost && HOST_HEADER.test(requestHost) ? requestHost : fallbackHost;
      return `ws://${host}/ws`;
    },
    async register() {
      return UNLISTED;
    },
    async close() {},
  };
}
