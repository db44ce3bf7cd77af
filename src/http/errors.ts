// The wire shape of every error: `{"error": "<clear message>"}` with its status.
import { Schema } from "effect"

export class ServiceUnavailable extends Schema.Error<ServiceUnavailable>("ServiceUnavailable")({
  error: Schema.String
}, { httpApiStatus: 503, description: "A dependency (database, broker) or every gateway is unavailable" }) {}
