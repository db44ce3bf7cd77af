// Every metric family of the service, on a registry of its own, in
// Prometheus conventions (prom-client): each with HELP and TYPE, and every
// label set known in advance present at 0 from start, so alerts have series
// before the first event. Gauges that describe the deployment (gateways,
// rooms per state) are read from Postgres at scrape time (see deployment.ts),
// so every process answers the same.
import { Context } from "effect"
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client"
import { roomMachine, roomStates } from "../../machines/room.machine.ts"
import type { Stage } from "../balancer/select.ts"

export const stages: ReadonlyArray<Stage> = ["pinned", "regional", "unreserved", "any", "overflow"]

/** MQTT topics by kind (the gateway or user in the topic is left out: it would make a series per user). */
export const mqttTopics = ["users", "events", "status", "other"] as const
export type MqttTopic = typeof mqttTopics[number]

/** handled: carried out; dropped: malformed; failed: good but not carried out now (database, room, fault). */
export const mqttOutcomes = ["handled", "dropped", "failed"] as const
export type MqttOutcome = typeof mqttOutcomes[number]

/** A release reason as a label value: `drain grace elapsed` → `drain_grace_elapsed`. */
export const reasonLabel = (reason: string) => reason.trim().toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_|_$/g, "")

/** Every reason the room machine releases an assignment for, read from its definition. */
export const releaseReasons: ReadonlyArray<string> = (() => {
  const found = new Set<string>()
  const visit = (actions: ReadonlyArray<unknown> | undefined) => {
    for (const a of actions ?? []) {
      const action = a as { type?: unknown; params?: { reason?: unknown } }
      if (action.type === "releaseAssignment" && typeof action.params?.reason === "string") found.add(reasonLabel(action.params.reason))
    }
  }
  for (const node of Object.values(roomMachine.root.states)) {
    visit(node.entry as ReadonlyArray<unknown>)
    visit(node.exit as ReadonlyArray<unknown>)
    for (const [, list] of node.transitions) for (const t of list) visit(t.actions as ReadonlyArray<unknown>)
  }
  return [...found].sort()
})()

/** Seconds; from a fast in-memory answer to a slow database call. */
const durationBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/** One gateway as the deployment gauges show it. */
export interface GatewaySample {
  readonly name: string
  readonly load: number
  /** Of `load`, reserved by young rooms for users expected but not yet there. */
  readonly reserved: number
  readonly capacity: number
  readonly rooms: number
  readonly users: number
  /** Unknown status (no MQTT message yet) counts as online, as the balancer counts it. */
  readonly online: boolean
}

/** What the deployment gauges show, read from Postgres at scrape time. */
export interface DeploymentSample {
  readonly gateways: ReadonlyArray<GatewaySample>
  readonly roomsByState: Readonly<Record<string, number>>
}

export const makeFamilies = (options: {
  readonly gateways: ReadonlyArray<string>
  /** Optional fields of client messages, for the counter of fields not kept as sent. */
  readonly clientFields?: ReadonlyArray<string> | undefined
}) => {
  const registry = new Registry()
  const registers = [registry]
  collectDefaultMetrics({ register: registry })
  // Gauges named like counters, which promtool refuses; their per-type
  // families (nodejs_active_handles{type}, …) stay and sum to the same.
  for (const name of ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"]) registry.removeSingleMetric(name)

  const httpDuration = new Histogram({
    name: "http_request_duration_seconds",
    help: "Time to answer an HTTP request, by method, route template (unmatched: no route) and status",
    labelNames: ["method", "route", "status"] as const,
    buckets: durationBuckets,
    registers
  })
  const assignments = new Counter({
    name: "room_assignments_total",
    help: "Rooms assigned to a gateway by the balancer, by the stage that decided",
    labelNames: ["stage"] as const,
    registers
  })
  const overflow = new Counter({
    name: "room_assignments_overflow_total",
    help: "Rooms assigned to a gateway already at capacity (no gateway had room)",
    registers
  })
  const regional = new Counter({
    name: "room_assignments_regional_total",
    help: "Assignments requested with a country code, by whether the room landed in that country's pool",
    labelNames: ["match"] as const,
    registers
  })
  const releases = new Counter({
    name: "room_assignment_releases_total",
    help: "Room assignments released (the gateway's reservation freed), by reason",
    labelNames: ["reason"] as const,
    registers
  })
  const failovers = new Counter({
    name: "room_failovers_total",
    help: "Rooms moved off a gateway that went down",
    registers
  })
  const sessionsCleaned = new Counter({
    name: "sessions_cleaned_total",
    help: "Sessions closed by the dead-session cleaner (no keepalive for DEAD_SESSION_PERIOD)",
    registers
  })
  const mqttMessages = new Counter({
    name: "mqtt_messages_total",
    help: "MQTT messages received, by topic kind and outcome (handled, dropped as malformed, failed)",
    labelNames: ["topic", "outcome"] as const,
    registers
  })

  const connectionsRefused = new Counter({
    name: "http_connections_refused_total",
    help: "Connections closed by the service: over_cap (MAX_CONNECTIONS open already), silent (nothing sent within HEADERS_TIMEOUT)",
    labelNames: ["reason"] as const,
    registers
  })
  const realtimeRefused = new Counter({
    name: "realtime_events_refused_total",
    help: "Real-time events answered {error: \"rate limited\"} (rate: over REALTIME_EVENTS_PER_SECOND; queue: over REALTIME_QUEUE waiting), and connections closed for showing no token (unauthenticated)",
    labelNames: ["reason"] as const,
    registers
  })
  const sessionsOverLimit = new Counter({
    name: "sessions_closed_over_limit_total",
    help: "Sessions closed because their user opened more than MAX_SESSIONS_PER_USER (the oldest close)",
    registers
  })
  const loginsThrottled = new Counter({
    name: "login_failures_total",
    help: "Failed logins (wrong or unknown credentials), by outcome: checked (the password was checked) or throttled (429, over LOGIN_FAILURES_PER_MINUTE from one address)",
    labelNames: ["outcome"] as const,
    registers
  })
  const counterDrift = new Counter({
    name: "gateway_load_drift_corrections_total",
    help: "Gateway load counters found to differ from the sum of their assignments by the reconciliation (and set to it); should stay 0",
    registers
  })
  const requestsShed = new Counter({
    name: "http_requests_shed_total",
    help: "Requests answered 503 at once because this process had MAX_IN_FLIGHT requests of their class in progress",
    labelNames: ["class"] as const,
    registers
  })
  const roomServerAnswers = new Counter({
    name: "room_server_answers_total",
    help: "Gateways answered for a room in scale mode, by source: view (a room assigned with users, from the process's read view) or room (its actor)",
    labelNames: ["source"] as const,
    registers
  })
  const clientFields = new Counter({
    name: "client_fields_not_kept_total",
    help: "Optional fields of client messages (keepalives, room requests, Janus events) not kept as sent, by field and outcome: normalised (cut, converted) or dropped",
    labelNames: ["field", "outcome"] as const,
    registers
  })

  const roomsResident = new Gauge({
    name: "rooms_resident",
    help: "Room actors in this process's memory (each leaves ROOM_RESIDENCY after its room's last message)",
    registers
  })

  for (const reason of ["over_cap", "silent"]) connectionsRefused.labels(reason).inc(0)
  for (const source of ["view", "room"]) roomServerAnswers.labels(source).inc(0)
  for (const kind of ["rooms", "sessions", "reads", "admin", "other"]) requestsShed.labels(kind).inc(0)
  for (const reason of ["rate", "queue", "unauthenticated"]) realtimeRefused.labels(reason).inc(0)
  for (const outcome of ["checked", "throttled"]) loginsThrottled.labels(outcome).inc(0)
  for (const stage of stages) assignments.labels(stage).inc(0)
  for (const field of options.clientFields ?? []) for (const outcome of ["normalised", "dropped"]) clientFields.labels(field, outcome).inc(0)
  for (const match of ["matched", "unmatched"]) regional.labels(match).inc(0)
  for (const reason of releaseReasons) releases.labels(reason).inc(0)
  for (const topic of mqttTopics) for (const outcome of mqttOutcomes) mqttMessages.labels(topic, outcome).inc(0)

  // The deployment gauges: one read of Postgres serves every gauge of a scrape.
  let source: (() => Promise<DeploymentSample | undefined>) | undefined
  let last: DeploymentSample = {
    gateways: options.gateways.map((name) => ({ name, load: 0, reserved: 0, capacity: 0, rooms: 0, users: 0, online: true })),
    roomsByState: Object.fromEntries(roomStates.map((s) => [s, 0]))
  }
  let pending: Promise<DeploymentSample> | undefined
  let readAt = 0
  const cacheMillis = 1_000
  const sample = (): Promise<DeploymentSample> => {
    if (source === undefined || Date.now() - readAt < cacheMillis) return Promise.resolve(last)
    pending ??= source().then((s) => {
      if (s !== undefined) last = s
      readAt = Date.now()
      return last
    }).finally(() => (pending = undefined))
    return pending
  }

  const gatewayGauge = (name: string, help: string, value: (g: GatewaySample) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ["gateway"] as const,
      registers,
      async collect() {
        const s = await sample()
        this.reset()
        for (const g of s.gateways) this.labels(g.name).set(value(g))
      }
    })

  gatewayGauge("gateway_load", "Users a gateway's assigned rooms count for: Σ over its rooms of max(users, AVG_ROOM_OCCUPANCY, a young room's expected size)", (g) => g.load)
  gatewayGauge("gateway_reserved_load", "Of gateway_load, what young rooms reserve for users expected but not yet there (real load: the difference)", (g) => g.reserved)
  gatewayGauge("gateway_capacity", "Users a gateway can hold (its own capacity, or MAX_SERVER_CAPACITY)", (g) => g.capacity)
  gatewayGauge("gateway_rooms", "Rooms assigned to a gateway", (g) => g.rooms)
  gatewayGauge("gateway_users", "Live sessions on a gateway", (g) => g.users)
  gatewayGauge("gateway_online", "1 while a gateway is online (or its status is not known yet), 0 while offline", (g) => (g.online ? 1 : 0))
  new Gauge({
    name: "rooms",
    help: "Rooms per state of their machine (idle, assigning, assigned, draining)",
    labelNames: ["state"] as const,
    registers,
    async collect() {
      const s = await sample()
      this.reset()
      for (const state of new Set([...roomStates, ...Object.keys(s.roomsByState)])) this.labels(state).set(s.roomsByState[state] ?? 0)
    }
  })

  return {
    registry,
    httpDuration,
    assignments,
    overflow,
    regional,
    releases,
    failovers,
    sessionsCleaned,
    mqttMessages,
    clientFields,
    connectionsRefused,
    counterDrift,
    requestsShed,
    roomServerAnswers,
    roomsResident,
    realtimeRefused,
    sessionsOverLimit,
    loginsThrottled,
    /** When each client field was last logged as not kept, and how many times since (one line a minute per field). */
    clientFieldLog: new Map<string, { at: number; since: number }>(),
    /** Where the deployment gauges read from (undefined: keep the last values); answers a function that detaches it. */
    observeDeployment: (read: () => Promise<DeploymentSample | undefined>) => {
      source = read
      readAt = 0
      return () => {
        if (source === read) source = undefined
      }
    }
  }
}

export type Families = ReturnType<typeof makeFamilies>

/**
 * The metric families of the running service. Each service instance
 * provides its own (tests run several in one process); code running outside
 * one counts into a detached set nobody scrapes.
 */
export const CurrentMetrics = Context.Reference<Families>("room-orchestrator/CurrentMetrics", {
  defaultValue: () => makeFamilies({ gateways: [] })
})
