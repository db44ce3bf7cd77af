ALTER TABLE room_snapshots DROP COLUMN sessions;
ALTER TABLE room_transitions DROP COLUMN sessions;
