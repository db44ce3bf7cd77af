-- Back to integer room and feed ids: refused while string ids exist, since
-- they cannot be kept.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM rooms WHERE room !~ '^[0-9]{1,18}$') THEN
    RAISE EXCEPTION 'cannot revert 0007_room_ids_text: rooms with string ids exist';
  END IF;
  IF EXISTS (SELECT 1 FROM sessions WHERE gateway_feed !~ '^[0-9]{1,18}$') THEN
    RAISE EXCEPTION 'cannot revert 0007_room_ids_text: sessions with string feed ids exist';
  END IF;
END
$$;
DROP INDEX sessions_active_by_feed;
ALTER TABLE sessions DROP COLUMN client_timestamp;
ALTER TABLE sessions DROP COLUMN client_name;
ALTER TABLE sessions DROP COLUMN role;
ALTER TABLE sessions DROP COLUMN group_name;
ALTER TABLE sessions ALTER COLUMN gateway_feed TYPE BIGINT USING gateway_feed::bigint;

ALTER TABLE rooms DROP COLUMN extra;
ALTER TABLE rooms DROP CONSTRAINT rooms_room_check;
ALTER TABLE rooms ALTER COLUMN room TYPE BIGINT USING room::bigint;
ALTER TABLE rooms ADD CONSTRAINT rooms_room_check CHECK (room > 0);
