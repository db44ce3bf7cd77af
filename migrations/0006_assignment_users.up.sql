-- How many sessions the room's machine counts: a gateway's load is the sum over
-- its rooms of max(users, AVG_ROOM_OCCUPANCY), read without scanning sessions.
ALTER TABLE room_server_assignments ADD COLUMN users INTEGER NOT NULL DEFAULT 0 CHECK (users >= 0);
