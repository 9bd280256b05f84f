/**
 * The `chathub-client` package (packages/client): ChatHub's router types, the models and events
 * they carry, a connection that signs in and follows chat servers, and a room follower. It
 * carries no server code and needs no zod: the router types are declarations with the server's
 * context erased (see appRouter.ts), and the models are plain interfaces.
 */
import type { inferRouterError, inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import type { AppRouter, TrackedEvent } from './appRouter.js';
import type { ChatEvent } from './contract/events.js';

export type { ApiRouter, AppRouter, ChatRouter, TrackedEvent } from './appRouter.js';
export * from './client/index.js';
export type * from './contract/events.js';
export { LIMITS } from './contract/limits.js';
export * from './contract/models.js';
export * from './contract/roomState.js';

/** What a `chat.events` subscriber receives: `{ id, data }`, id being the resume point. */
export type TrackedChatEvent = TrackedEvent<ChatEvent>;
/** `data` of every ChatHub error: the code, and per-field messages for invalid input. */
export type ErrorData = inferRouterError<AppRouter>['data'];
/** Every procedure's input, e.g. `RouterInputs['chat']['send']`. */
export type RouterInputs = inferRouterInputs<AppRouter>;
/** Every procedure's output, e.g. `RouterOutputs['rooms']['list']`. */
export type RouterOutputs = inferRouterOutputs<AppRouter>;
