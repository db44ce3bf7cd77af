// SQL shared by the stores that write assignments and read gateway loads.
import type { SqlClient } from "effect/sql"

/** Creates or moves a room's assignment; `assigned_at` changes only when the gateway does. */
export const upsertAssignment = (sql: SqlClient.SqlClient, roomId: number, gateway: string, region: string | null, users: number) =>
  sql`
    INSERT INTO room_server_assignments (room_id, gateway_name, region, users)
    VALUES (${roomId}, ${gateway}, ${region}, ${users})
    ON CONFLICT (room_id) DO UPDATE SET
      gateway_name = EXCLUDED.gateway_name,
      region = EXCLUDED.region,
      users = EXCLUDED.users,
      assigned_at = CASE WHEN room_server_assignments.gateway_name = EXCLUDED.gateway_name
                         THEN room_server_assignments.assigned_at ELSE now() END,
      last_used_at = now()`

/** Assignments with what each room costs its gateway: max(its sessions, average). */
export const assignmentLoads = (sql: SqlClient.SqlClient, avgRoomOccupancy: number) =>
  sql`SELECT room_id, gateway_name, GREATEST(users, ${avgRoomOccupancy}) AS room_load FROM room_server_assignments`
