import type {
  AnyTRPCProcedure,
  AnyTRPCRouter,
  inferRouterInputs,
  inferRouterOutputs,
  TRPC_ERROR_CODE_NUMBER,
  TRPCBuiltRouter,
  TRPCSubscriptionProcedure,
} from '@trpc/server';
import { apiRouter } from './api/router.js';
import { chatRouter } from './chat/router.js';
import { mergeRouters } from './trpc/init.js';

/**
 * The router types clients compile against, published in the `chathub-client` package.
 *
 * A client needs each procedure's input and output and the error shape, never the server's
 * context (which names every service, and through them the database drivers). So each router is
 * seen through `forClients`, whose return type is written inline: TypeScript then spells the
 * declarations out in full, with the context erased, models named from `src/contract`, and
 * nothing from tRPC's unstable internals. No server runs these routers; each role serves its own.
 */

/** A `chat.events` item as it arrives: tRPC's `tracked()` pair, `id` being the resume point. */
export interface TrackedEvent<TData> {
  id: string;
  data: TData;
}

type TrackedOutput<TOutput> =
  TOutput extends AsyncIterable<infer TItem>
    ? AsyncIterable<TItem extends TrackedEvent<infer TData> ? TrackedEvent<TData> : TItem>
    : TOutput;

type ProcedureForClients<TProcedure> =
  TProcedure extends TRPCSubscriptionProcedure<infer TDef>
    ? TRPCSubscriptionProcedure<{
        input: TDef['input'];
        output: TrackedOutput<TDef['output']>;
        meta: object;
      }>
    : TProcedure;

type RecordOf<TRouter extends AnyTRPCRouter> = TRouter['_def']['record'];
type ErrorDataOf<TRouter extends AnyTRPCRouter> =
  TRouter['_def']['_config']['$types']['errorShape']['data'];

function forClients<TRouter extends AnyTRPCRouter>(
  router: TRouter,
): TRPCBuiltRouter<
  {
    ctx: object;
    meta: object;
    errorShape: {
      code: TRPC_ERROR_CODE_NUMBER;
      message: string;
      data: { [K in keyof ErrorDataOf<TRouter>]: ErrorDataOf<TRouter>[K] };
    };
    transformer: false;
  },
  {
    [Name in keyof RecordOf<TRouter>]: RecordOf<TRouter>[Name] extends AnyTRPCProcedure
      ? ProcedureForClients<RecordOf<TRouter>[Name]>
      : {
          [Procedure in keyof RecordOf<TRouter>[Name]]: ProcedureForClients<
            RecordOf<TRouter>[Name][Procedure]
          >;
        };
  }
>;
function forClients(router: AnyTRPCRouter): AnyTRPCRouter {
  return router;
}

const appRouter = mergeRouters(apiRouter, chatRouter);
const clientApiRouter = forClients(apiRouter);
const clientChatRouter = forClients(chatRouter);
const clientAppRouter = forClients(appRouter);

/** Everything the API role serves over HTTP at /trpc. */
export type ApiRouter = typeof clientApiRouter;
/** Everything the chat role serves over WebSocket. */
export type ChatRouter = typeof clientChatRouter;
/**
 * Both roles' procedures as one router type, for clients that reach the API over HTTP and chat
 * over WebSocket through a single tRPC client that splits its links by path.
 */
export type AppRouter = typeof clientAppRouter;

/** Compiles only when T is true. */
type Assert<T extends true> = T;
/** True when A and B accept exactly the same values. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/**
 * The client view keeps every procedure with its input and output: a procedure the view cannot
 * express (in a router nested deeper than `namespace.procedure`) fails to compile here.
 */
// biome-ignore lint/correctness/noUnusedVariables: a compile-time assertion; tsc checks it
type ViewIsComplete = Assert<
  Same<
    [inferRouterInputs<AppRouter>, inferRouterOutputs<AppRouter>],
    [inferRouterInputs<typeof appRouter>, inferRouterOutputs<typeof appRouter>]
  >
>;
