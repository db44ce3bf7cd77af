// How the stores fail: a query that cannot run is a typed DatabaseUnavailable
// (503 for clients) naming the operation, never a defect; a stored row that
// does not decode names its table and column.
import { Cause, Effect, Schema } from "effect"
import { SqlError } from "effect/sql"
import { DatabaseUnavailable } from "../domain/errors.ts"

/** What the driver says went wrong, with the database's own words when it has them. */
const reasonOf = (e: SqlError.SqlError): string => {
  const cause = (e.reason as { cause?: unknown }).cause
  const detail = cause instanceof Error ? cause.message : undefined
  return detail === undefined || e.message.includes(detail) ? e.message : `${e.message}: ${detail}`
}

/** Maps the driver's failures of `operation` to DatabaseUnavailable. */
export const unavailable = (operation: string) => <A, R>(effect: Effect.Effect<A, SqlError.SqlError, R>) =>
  Effect.mapError(effect, (e) => new DatabaseUnavailable({ operation, reason: reasonOf(e) }))

/**
 * Like `unavailable`, for a transaction around other work. When the
 * connection dies mid-transaction its rollback fails too, which the driver
 * reports as a defect: that is the database being away as well.
 */
export const unavailableIn = (operation: string) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(
    Effect.mapError((e) => (SqlError.isSqlError(e) ? new DatabaseUnavailable({ operation, reason: reasonOf(e) }) : e)),
    Effect.catchCause((cause) => {
      const died = cause.reasons.find((r) => Cause.isDieReason(r) && (SqlError.isSqlError(r.defect) || r.defect instanceof DatabaseUnavailable))
      if (died === undefined || !Cause.isDieReason(died)) return Effect.failCause(cause)
      const defect = died.defect as SqlError.SqlError | DatabaseUnavailable
      return Effect.fail(defect instanceof DatabaseUnavailable ? defect : new DatabaseUnavailable({ operation, reason: reasonOf(defect) }))
    })
  ) as Effect.Effect<A, Exclude<E, SqlError.SqlError> | DatabaseUnavailable, R>

/** A stored row that does not match its schema: which table, which row, what is wrong. */
export class StoredRowInvalid extends Schema.TaggedError<StoredRowInvalid>()("StoredRowInvalid", {
  table: Schema.String,
  row: Schema.String,
  problem: Schema.String
}) {
  override get message() {
    return `table ${this.table}, row ${this.row}: ${this.problem}`
  }
}

/** Decodes one stored row, or says which row and column are wrong. */
export const decodeRow = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S, table: string, rowOf: (raw: unknown) => string) => {
  const decode = Schema.decodeUnknownEffect(schema)
  return (raw: unknown): Effect.Effect<S["Type"], StoredRowInvalid> =>
    decode(raw).pipe(Effect.mapError((e) =>
      new StoredRowInvalid({ table, row: rowOf(raw), problem: e.message.replace(/\s*\n\s*/g, " ") })
    )) as Effect.Effect<S["Type"], StoredRowInvalid>
}

/** The `id` column of a raw row, for error messages. */
export const idOf = (raw: unknown): string =>
  typeof raw === "object" && raw !== null && "id" in raw ? `id=${String((raw as { id: unknown }).id)}` : "?"
