import { createRouter } from '../trpc/init.js';
import { chatRouter as chat } from './routers/chat.js';

/** Everything the chat role serves over WebSocket. */
export const chatRouter = createRouter({ chat });

export type ChatRouter = typeof chatRouter;
