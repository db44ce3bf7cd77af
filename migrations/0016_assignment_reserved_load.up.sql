-- The part of an assignment's load that is its room's expected size, reserved
-- while the room is young (machines/expectedSize.ts): load − max(users,
-- AVG_ROOM_OCCUPANCY). Operators see a gateway's reserved and real load.
ALTER TABLE room_server_assignments ADD COLUMN reserved integer NOT NULL DEFAULT 0;
