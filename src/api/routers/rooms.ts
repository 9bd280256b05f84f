import { createRoomInput, getRoomInput, listRoomsInput } from '../../contract/schemas.js';
import { authedProcedure, createRouter, publicProcedure } from '../../trpc/init.js';

export const roomsRouter = createRouter({
  /** One page of the directory, in name order; public, and bounded by the page size. */
  list: publicProcedure
    .input(listRoomsInput)
    .query(({ ctx, input }) => ctx.services.rooms.list(input)),

  get: publicProcedure
    .input(getRoomInput)
    .query(({ ctx, input }) => ctx.services.rooms.get(input.id)),

  create: authedProcedure
    .input(createRoomInput)
    .mutation(({ ctx, input }) => ctx.services.rooms.create(input.name, ctx.user)),
});
