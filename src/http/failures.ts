// Domain failures to HTTP errors, in one place: each becomes the status its
// class declares in src/domain/errors.ts, with `{"error": message}`. A
// database outage is logged here, once a second at most.
import { Effect } from "effect"
import { Forbidden } from "../auth/access.ts"
import { Outage } from "../db/outage.ts"
import type {
  BadEvent,
  DatabaseUnavailable,
  ForeignGatewayEvent,
  LegacyGatewayMissing,
  NoGatewayAvailable,
  ProtocolError,
  RoomNotFound,
  RoomUnavailable
} from "../domain/errors.ts"
import { BadRequest, NotFound, ServerError, ServiceUnavailable } from "../domain/wireErrors.ts"

export type DomainFailure =
  | RoomNotFound
  | NoGatewayAvailable
  | RoomUnavailable
  | LegacyGatewayMissing
  | DatabaseUnavailable
  | ProtocolError
  | BadEvent
  | ForeignGatewayEvent

type HttpFailure<E> = E extends RoomNotFound ? NotFound
  : E extends ForeignGatewayEvent ? Forbidden
  : E extends LegacyGatewayMissing ? ServerError
  : E extends ProtocolError | BadEvent ? BadRequest
  : ServiceUnavailable

export const toHttpError = <E extends DomainFailure>(e: E): HttpFailure<E> => {
  switch (e._tag) {
    case "RoomNotFound":
      return new NotFound({ error: e.message }) as HttpFailure<E>
    case "LegacyGatewayMissing":
      return new ServerError({ error: e.message }) as HttpFailure<E>
    case "ProtocolError":
    case "BadEvent":
      return new BadRequest({ error: e.message }) as HttpFailure<E>
    case "ForeignGatewayEvent":
      return new Forbidden({ error: e.message }) as HttpFailure<E>
    case "NoGatewayAvailable":
    case "RoomUnavailable":
    case "DatabaseUnavailable":
      return new ServiceUnavailable({ error: e.message }) as HttpFailure<E>
  }
}

/** Maps a handler's domain failures to their HTTP errors, reporting a database outage. */
export const asHttpError = <A, E extends DomainFailure, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(
    Effect.tapError((e) =>
      e._tag === "DatabaseUnavailable"
        ? Effect.gen(function*() {
          yield* (yield* Outage).report(e)
        })
        : Effect.void),
    Effect.mapError(toHttpError)
  ) as Effect.Effect<A, HttpFailure<E>, R | Outage>
