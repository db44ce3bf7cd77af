-- Each gateway's load as a counter: the sum of the loads of the rooms
-- assigned to it, adjusted by every room step that changes a room's load,
-- in the statement that commits the step. Placement reserves with a
-- conditional update of it (load + need <= capacity) instead of a
-- deployment-wide lock. Each assignment keeps the load it adds, written by
-- its room's step from the balancer's rule.
ALTER TABLE room_server_assignments ADD COLUMN load INTEGER NOT NULL DEFAULT 0 CHECK (load >= 0);
-- Assignments made before: the rule with the default AVG_ROOM_OCCUPANCY (10);
-- each room's next step writes its own.
UPDATE room_server_assignments SET load = GREATEST(users, 10);

CREATE TABLE gateway_loads (
  gateway_name VARCHAR(50) PRIMARY KEY,
  load         INTEGER NOT NULL DEFAULT 0
);
INSERT INTO gateway_loads (gateway_name, load)
  SELECT gateway_name, sum(load)::int FROM room_server_assignments GROUP BY gateway_name;
