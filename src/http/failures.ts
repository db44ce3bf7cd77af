// Domain failures to HTTP errors, in one place.
import { Effect } from "effect"
import type { NoGatewayAvailable, RoomNotFound } from "../rooms/entity.ts"
import type { RoomServerError } from "../rooms/roomServer.ts"
import type { RoomUnavailable } from "../rooms/rooms.ts"
import { NotFound, ServerError, ServiceUnavailable } from "./errors.ts"

type Known = RoomServerError | RoomNotFound | NoGatewayAvailable | RoomUnavailable

export const toHttpError = (e: Known): NotFound | ServerError | ServiceUnavailable => {
  switch (e._tag) {
    case "RoomNotFound":
      return new NotFound({ error: e.message })
    case "LegacyGatewayMissing":
      return new ServerError({ error: e.message })
    case "NoGatewayAvailable":
    case "RoomUnavailable":
      return new ServiceUnavailable({ error: e.message })
  }
}

export const asHttpError = <A, R>(effect: Effect.Effect<A, Known, R>) => Effect.mapError(effect, toHttpError)
