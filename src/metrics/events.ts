// What the domain counts, one named effect per event, so the code where the
// event happens stays free of metric details: one line at the place.
import type { Stage } from "../balancer/select.ts"
import { CurrentMetrics, type MqttOutcome, type MqttTopic, reasonLabel } from "./families.ts"

/** A room assigned by the balancer; `regional` when the request named a country (matched: it landed in that country's pool). */
export const countAssignment = (stage: Stage, regional: "matched" | "unmatched" | undefined) =>
  CurrentMetrics.useSync((m) => {
    m.assignments.labels(stage).inc()
    if (stage === "overflow") m.overflow.inc()
    if (regional !== undefined) m.regional.labels(regional).inc()
  })

/** A room's assignment released, with the machine's reason. */
export const countRelease = (reason: string) => CurrentMetrics.useSync((m) => m.releases.labels(reasonLabel(reason)).inc())

/** Rooms moved off a gateway that went down. */
export const countFailovers = (rooms: number) => CurrentMetrics.useSync((m) => m.failovers.inc(rooms))

/** Sessions closed by the dead-session cleaner. */
export const countCleanedSessions = (sessions: number) => CurrentMetrics.useSync((m) => m.sessionsCleaned.inc(sessions))

/** An MQTT message and what became of it. */
export const countMqttMessage = (topic: MqttTopic, outcome: MqttOutcome) =>
  CurrentMetrics.useSync((m) => m.mqttMessages.labels(topic, outcome).inc())

/** The kind of an MQTT topic, as the `topic` label shows it. */
export const mqttTopicKind = (topic: string): MqttTopic => {
  const parts = topic.split("/")
  if (parts[0] === "gxydb" && parts[1] === "users") return "users"
  if (parts[0] === "gxydb" && parts[1] === "events") return "events"
  if (parts[0] === "janus" && parts[2] === "status" && parts.length === 3) return "status"
  return "other"
}
