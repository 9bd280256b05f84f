import { createRoomInput } from '../../contract/schemas.js';
import { authedProcedure, createRouter, publicProcedure } from '../../trpc/init.js';

export const roomsRouter = createRouter({
  list: publicProcedure.query(({ ctx }) => ctx.services.rooms.list()),

  create: authedProcedure
    .input(createRoomInput)
    .mutation(({ ctx, input }) => ctx.services.rooms.create(input.name)),
});
