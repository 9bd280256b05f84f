import { apiRouter } from './api/router.js';
import { chatRouter } from './chat/router.js';
import { mergeRouters } from './trpc/init.js';

/**
 * Both roles' procedures as one router type, for clients that reach the API over HTTP and chat
 * over WebSocket through a single tRPC client (the web app splits its links by path). No server
 * serves this router: each role serves its own.
 */
const appRouter = mergeRouters(apiRouter, chatRouter);

export type AppRouter = typeof appRouter;
