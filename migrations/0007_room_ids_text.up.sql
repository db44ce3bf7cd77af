-- Room ids are Janus videoroom ids: positive integers or Janus string ids
-- (1–64 characters of [A-Za-z0-9_.:-]); numeric ids are stored as their
-- decimal digits. Feed ids (rfid) are strings (the Galaxy client sends
-- "<user id>-abc"). Sessions keep what the client last sent for the
-- listings, and rooms get gxydb-api's free-form `extra`.
ALTER TABLE rooms DROP CONSTRAINT IF EXISTS rooms_room_check;
ALTER TABLE rooms ALTER COLUMN room TYPE TEXT USING room::text;
ALTER TABLE rooms ADD CONSTRAINT rooms_room_check CHECK (room ~ '^[A-Za-z0-9_.:-]{1,64}$');
ALTER TABLE rooms ADD COLUMN extra JSONB;

ALTER TABLE sessions ALTER COLUMN gateway_feed TYPE TEXT USING gateway_feed::text;
ALTER TABLE sessions ADD COLUMN group_name TEXT;
ALTER TABLE sessions ADD COLUMN role TEXT;
ALTER TABLE sessions ADD COLUMN client_name TEXT;
-- `timestamp` as the client sent it (gxydb-api's clients send epoch ms or s)
ALTER TABLE sessions ADD COLUMN client_timestamp BIGINT;
-- Janus events close sessions by feed id
CREATE INDEX sessions_active_by_feed ON sessions (gateway_feed) WHERE removed_at IS NULL;
