// SQL shared by the stores that write assignments and read gateway loads.
import type { SqlClient } from "effect/sql"

/** Creates or moves a room's assignment; `assigned_at` changes only when the gateway does. */
export const upsertAssignment = (sql: SqlClient.SqlClient, roomId: number, gateway: string, region: string | null) =>
  sql`
    INSERT INTO room_server_assignments (room_id, gateway_name, region)
    VALUES (${roomId}, ${gateway}, ${region})
    ON CONFLICT (room_id) DO UPDATE SET
      gateway_name = EXCLUDED.gateway_name,
      region = EXCLUDED.region,
      assigned_at = CASE WHEN room_server_assignments.gateway_name = EXCLUDED.gateway_name
                         THEN room_server_assignments.assigned_at ELSE now() END,
      last_used_at = now()`

/** Assignments with what each room costs its gateway: max(live users, average). */
export const assignmentLoads = (sql: SqlClient.SqlClient, avgRoomOccupancy: number) =>
  sql`
    SELECT a.room_id, a.gateway_name, GREATEST(COALESCE(u.users, 0), ${avgRoomOccupancy}) AS room_load
    FROM room_server_assignments a
    LEFT JOIN (
      SELECT room_id, count(DISTINCT user_id)::int AS users
      FROM sessions WHERE removed_at IS NULL GROUP BY room_id
    ) u ON u.room_id = a.room_id`
