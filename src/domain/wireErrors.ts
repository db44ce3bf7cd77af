// The wire shape of every error the HTTP API answers: `{"error": "<clear
// message>"}` with its status. Domain-level, so that both the endpoints
// (src/http) and the authentication they use (src/auth) point down to it.
import { Schema } from "effect"

const fields = { error: Schema.String }

/** What every error below holds. */
export interface WireError {
  readonly error: string
}

export class BadRequest extends Schema.Error<BadRequest>("BadRequest")(fields, {
  httpApiStatus: 400,
  description: "The request is malformed; the message names the field"
}) {}

export class NotFound extends Schema.Error<NotFound>("NotFound")(fields, {
  httpApiStatus: 404,
  description: "No such room, gateway or session"
}) {}

export class Conflict extends Schema.Error<Conflict>("Conflict")(fields, {
  httpApiStatus: 409,
  description: "It already exists"
}) {}

export class ServerError extends Schema.Error<ServerError>("ServerError")(fields, {
  httpApiStatus: 500,
  description: "A server fault, or a room misconfigured for legacy mode"
}) {}

export class ServiceUnavailable extends Schema.Error<ServiceUnavailable>("ServiceUnavailable")(fields, {
  httpApiStatus: 503,
  description: "No gateway is available, or a dependency (database, broker, room) is down"
}) {}

export class PayloadTooLarge extends Schema.Error<PayloadTooLarge>("PayloadTooLarge")(fields, {
  httpApiStatus: 413,
  description: "The body is over 64 KiB"
}) {}

export class UnsupportedMediaType extends Schema.Error<UnsupportedMediaType>("UnsupportedMediaType")(fields, {
  httpApiStatus: 415,
  description: "The body is not sent as application/json (admin routes are strict)"
}) {}
