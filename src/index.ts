/**
 * ChatHub's public package: the contract (zod schemas, event and model types), the router types,
 * and a typed client factory. Importing it pulls in no server code at run time.
 */
export type { ApiRouter } from './api/router.js';
export type { AppRouter } from './appRouter.js';
export type { ChatRouter } from './chat/router.js';
export type { TrackedChatEvent } from './chat/routers/chat.js';
export * from './client/index.js';
export * from './contract/index.js';
export type { ErrorData } from './trpc/init.js';
