ALTER TABLE room_snapshots DROP COLUMN version;
