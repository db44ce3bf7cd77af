-- Rooms are of two kinds: `gxydb`, the configured rooms Galaxy lists and
-- picks from, and `meeting`, rooms created by their users through
-- /api/rooms/create (seed 003), which stay out of Galaxy's lists and are
-- removed once empty for MEETING_ROOM_TTL.
ALTER TABLE rooms ADD COLUMN kind TEXT NOT NULL DEFAULT 'gxydb' CHECK (kind IN ('gxydb', 'meeting'));
-- Rooms created before kinds existed: a generated id (24 lowercase letters
-- and digits, starting with a letter) is what /api/rooms/create makes.
UPDATE rooms SET kind = 'meeting' WHERE room ~ '^[a-z][a-z0-9]{23}$';
