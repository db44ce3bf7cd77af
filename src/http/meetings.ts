// Handlers of the seed-003 room routes: decode → Meetings → encode.
import { Effect } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import type { CatalogRow } from "../db/catalogStore.ts"
import { Meetings } from "../meetings/meetings.ts"
import { roomView } from "../meetings/views.ts"
import { Api } from "./api.ts"
import { NotFound } from "../domain/wireErrors.ts"
import { asHttpError } from "./httpErrors.ts"

export const MeetingsHandlers = HttpApiBuilder.group(Api, "meetings", Effect.fn(function*(handlers) {
  const meetings = yield* Meetings

  const withUsers = (missing: string) => (row: CatalogRow | undefined) =>
    row === undefined
      ? Effect.fail(new NotFound({ error: missing }))
      : asHttpError(Effect.map(meetings.withUsers(row), (room) => ({ room })))

  return handlers
    .handle("create", ({ payload }) =>
      asHttpError(meetings.create(payload.name)).pipe(
        Effect.tap((row) => Effect.logInfo("Room created").pipe(Effect.annotateLogs({ room_id: row.room, join_code: row.joinCode }))),
        Effect.map((row) => ({ room: roomView(row) }))
      ))
    .handle("byJoinCode", ({ params }) =>
      Effect.flatMap(meetings.findByCode(params.joinCode), withUsers(`no room with join code ${params.joinCode.toUpperCase()}`)))
    .handle("byId", ({ params }) => Effect.flatMap(meetings.find(params.roomId), withUsers(`room ${params.roomId} not found`)))
}))
