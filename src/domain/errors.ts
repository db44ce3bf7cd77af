// The service's domain failures, each with the HTTP status a client sees for
// it (its `status`), written here only: src/http/httpErrors.ts turns each into
// the wire error of that status, a `{"error": message}` body.
// They are schemas, so they cross the cluster between processes intact.
import { Schema } from "effect"

export class RoomNotFound extends Schema.TaggedError<RoomNotFound>()("RoomNotFound", {
  room: Schema.String
}) {
  get status(): 404 {
    return 404
  }

  override get message() {
    return `room ${this.room} not found`
  }
}

export class NoGatewayAvailable extends Schema.TaggedError<NoGatewayAvailable>()("NoGatewayAvailable", {
  room: Schema.String,
  reason: Schema.String
}) {
  get status(): 503 {
    return 503
  }

  override get message() {
    return this.reason
  }
}

/** A room whose actor did not answer in time (its process is gone or busy). */
export class RoomUnavailable extends Schema.TaggedError<RoomUnavailable>()("RoomUnavailable", {
  room: Schema.String,
  message: Schema.String
}) {
  get status(): 503 {
    return 503
  }
}

/** Legacy mode and the room's default gateway is missing or disabled: the room must be fixed. */
export class LegacyGatewayMissing extends Schema.TaggedError<LegacyGatewayMissing>()("LegacyGatewayMissing", {
  room: Schema.String,
  defaultGatewayId: Schema.NullOr(Schema.Number)
}) {
  get status(): 500 {
    return 500
  }

  override get message() {
    return `gateway not found for room ${this.room} in legacy mode (SCALE=false): fix the room's default gateway`
  }
}

/**
 * The database did not answer or refused the connection. Expected while it
 * is down: clients get 503 with Retry-After, operators one log line.
 */
export class DatabaseUnavailable extends Schema.TaggedError<DatabaseUnavailable>()("DatabaseUnavailable", {
  /** What was being done, e.g. `SessionStore.upsert`. */
  operation: Schema.String,
  /** The driver's reason, for the log (never sent to clients). */
  reason: Schema.String
}) {
  get status(): 503 {
    return 503
  }

  override get message() {
    return "database unavailable"
  }
}

/** A keepalive gxydb-api would refuse as a protocol error. */
export class ProtocolError extends Schema.TaggedError<ProtocolError>()("ProtocolError", {
  reason: Schema.String
}) {
  get status(): 400 {
    return 400
  }

  override get message() {
    return `protocol error: ${this.reason}`
  }
}

/** A Janus event that should close a feed but names none we can read. */
export class BadEvent extends Schema.TaggedError<BadEvent>()("BadEvent", {
  reason: Schema.String
}) {
  get status(): 400 {
    return 400
  }

  override get message() {
    return `invalid request body: ${this.reason}`
  }
}

/** A gateway's credentials used for an event another gateway emitted: they act for their own gateway only. */
export class ForeignGatewayEvent extends Schema.TaggedError<ForeignGatewayEvent>()("ForeignGatewayEvent", {
  gateway: Schema.String,
  emitter: Schema.String
}) {
  get status(): 403 {
    return 403
  }

  override get message() {
    return `forbidden: ${this.gateway}'s credentials act for ${this.gateway} only, and this event names ${this.emitter} as its emitter`
  }
}

/** Every domain failure a client may see, each answered with its `status`. */
export type DomainFailure =
  | RoomNotFound
  | NoGatewayAvailable
  | RoomUnavailable
  | LegacyGatewayMissing
  | DatabaseUnavailable
  | ProtocolError
  | BadEvent
  | ForeignGatewayEvent
