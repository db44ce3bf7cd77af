// Demo data: the gateways gxy1…gxy12 and a dozen rooms, so the seeds' curl
// examples work as written (room 2171 "Room 1" on gxy1). Idempotent: it only
// adds what is missing.
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

export const demoGateways = Array.from({ length: 12 }, (_, i) => `gxy${i + 1}`)

// Fixed join codes, so examples can name them (`/api/rooms/join/ROOM01`).
export const demoRooms = Array.from({ length: 12 }, (_, i) => ({
  room: String(2171 + i),
  name: `Room ${i + 1}`,
  defaultGateway: demoGateways[i]!,
  joinCode: `ROOM${String(i + 1).padStart(2, "0")}`
}))

/** Inserts the demo gateways and rooms that are missing; answers how many were added. */
export const seedDemoData = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  return yield* sql.withTransaction(Effect.gen(function*() {
    let gateways = 0
    for (const name of demoGateways) {
      const inserted = yield* sql`
        INSERT INTO gateways (name, description) VALUES (${name}, ${`Janus ${name}`})
        ON CONFLICT (name) DO NOTHING
        RETURNING id`
      gateways += inserted.length
    }
    let rooms = 0
    for (const r of demoRooms) {
      const inserted = yield* sql`
        INSERT INTO rooms (room, name, default_gateway_id, join_code)
        SELECT ${r.room}, ${r.name}, g.id, ${r.joinCode} FROM gateways g WHERE g.name = ${r.defaultGateway}
        ON CONFLICT DO NOTHING
        RETURNING id`
      rooms += inserted.length
    }
    yield* Effect.logInfo("Demo data seeded").pipe(Effect.annotateLogs({ gateways, rooms }))
    return { gateways, rooms }
  }))
})
