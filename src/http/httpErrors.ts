// Domain failures to HTTP errors: each becomes the wire error of the status
// its class declares (src/domain/errors.ts), with `{"error": message}`. A
// database outage is logged here, once a second at most.
import { Effect } from "effect"
import { Forbidden } from "../auth/access.ts"
import { DatabaseOutage } from "../db/databaseOutage.ts"
import type { DomainFailure } from "../domain/errors.ts"
import { BadRequest, NotFound, ServerError, ServiceUnavailable } from "../domain/wireErrors.ts"

/** The wire error that answers each status a domain failure may declare. */
const wireErrors = { 400: BadRequest, 403: Forbidden, 404: NotFound, 500: ServerError, 503: ServiceUnavailable } as const

type HttpFailure<E extends DomainFailure> = InstanceType<(typeof wireErrors)[E["status"]]>

export const toHttpError = <E extends DomainFailure>(e: E): HttpFailure<E> =>
  new wireErrors[e.status]({ error: e.message }) as HttpFailure<E>

/** Maps a handler's domain failures to their HTTP errors, reporting a database outage. */
export const asHttpError = <A, E extends DomainFailure, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(
    Effect.tapError((e) =>
      e._tag === "DatabaseUnavailable"
        ? Effect.gen(function*() {
          yield* (yield* DatabaseOutage).report(e)
        })
        : Effect.void),
    Effect.mapError(toHttpError)
  ) as Effect.Effect<A, HttpFailure<E>, R | DatabaseOutage>
