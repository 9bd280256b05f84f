import type { PublicUser } from '../../contract/models.js';
import { createRoomInput, getRoomInput, listRoomsInput } from '../../contract/schemas.js';
import type { Context } from '../../trpc/context.js';
import { authedProcedure, createRouter, publicProcedure } from '../../trpc/init.js';

/** The caller when their session is valid; rooms stay public without one. */
function signedIn({ session }: Context): PublicUser | undefined {
  return session && session.expiresAt > Date.now() ? session.user : undefined;
}

export const roomsRouter = createRouter({
  /** One page of the directory, in name order; public, and bounded by the page size. */
  list: publicProcedure
    .input(listRoomsInput)
    .query(({ ctx, input }) => ctx.services.rooms.list(input, signedIn(ctx))),

  get: publicProcedure
    .input(getRoomInput)
    .query(({ ctx, input }) => ctx.services.rooms.get(input.id)),

  create: authedProcedure
    .input(createRoomInput)
    .mutation(({ ctx, input }) => ctx.services.rooms.create(input.name, ctx.user)),
});
