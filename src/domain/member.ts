// What a session says about its user, the same in its stored row and in
// the operator's listing (GET /admin/sessions).
import { Schema } from "effect"

/** A session's user details and media flags, as kept from its last keepalive. */
export const memberFields = {
  rfid: Schema.NullOr(Schema.String),
  display: Schema.NullOr(Schema.String),
  country: Schema.NullOr(Schema.String),
  ip: Schema.NullOr(Schema.String),
  user_agent: Schema.NullOr(Schema.String),
  camera: Schema.Boolean,
  mic: Schema.Boolean,
  screen: Schema.Boolean,
  question: Schema.Boolean
}
