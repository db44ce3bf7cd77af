// What the domain counts, one named effect per event, so the code where the
// event happens stays free of metric details: one line at the place.
import { Clock, Effect } from "effect"
import type { Stage } from "../balancer/select.ts"
import type { FieldNotes } from "../domain/kept.ts"
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

/** A room's gateway answered to a client: from the read view, or by the room's actor. */
export const countStickyAnswer = (source: "view" | "room") => CurrentMetrics.useSync((m) => m.roomServerAnswers.labels(source).inc())

/** A room's actor came into this process's memory (1) or left it (-1). */
export const countResidentRoom = (change: 1 | -1) => CurrentMetrics.useSync((m) => m.roomsResident.inc(change))

/** Gateway load counters found different from the sum of their assignments (and set to it). */
export const countCounterDrift = (gateways: number) => CurrentMetrics.useSync((m) => m.counterDrift.inc(gateways))

/** A failed login: its password checked, or refused unchecked (over the per-address budget). */
export const countLogin = (outcome: "checked" | "throttled") => CurrentMetrics.useSync((m) => m.loginsThrottled.labels(outcome).inc())

/** Sessions closed because their user opened more than MAX_SESSIONS_PER_USER. */
export const countSessionsOverLimit = (sessions: number) => CurrentMetrics.useSync((m) => m.sessionsOverLimit.inc(sessions))

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

/** How often a client field not kept as sent is logged (each is counted every time). */
const fieldLogInterval = 60_000

/**
 * Client fields that were normalised or dropped: counted by field, and
 * logged at most once a minute per field (with how many since the last line).
 */
export const countFieldNotes = (notes: FieldNotes) =>
  notes.length === 0 ? Effect.void : Effect.gen(function*() {
    const m = yield* CurrentMetrics
    const now = yield* Clock.currentTimeMillis
    for (const { field, outcome, reason } of notes) {
      m.clientFields.labels(field, outcome).inc()
      const last = m.clientFieldLog.get(field)
      if (last !== undefined && now - last.at < fieldLogInterval) {
        last.since++
        continue
      }
      m.clientFieldLog.set(field, { at: now, since: 0 })
      yield* Effect.logWarning("Client field not kept as sent").pipe(
        Effect.annotateLogs({ field, outcome, reason, ...(last === undefined ? {} : { since_last_line: last.since }) })
      )
    }
  })
