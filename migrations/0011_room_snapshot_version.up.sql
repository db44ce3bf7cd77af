-- Each write of a room's snapshot bumps its version, and a write names the
-- version it read: a process that lost a room (frozen, then resumed after
-- another took the room over) cannot overwrite what the new owner wrote.
ALTER TABLE room_snapshots ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
