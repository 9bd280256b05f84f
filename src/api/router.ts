import { createRouter } from '../trpc/init.js';
import { authRouter as auth } from './routers/auth.js';
import { discoveryRouter as discovery } from './routers/discovery.js';
import { roomsRouter as rooms } from './routers/rooms.js';

/** Everything the API role serves over HTTP at /trpc. */
export const apiRouter = createRouter({ auth, rooms, discovery });

export type ApiRouter = typeof apiRouter;
