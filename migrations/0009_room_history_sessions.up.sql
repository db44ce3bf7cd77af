-- The room's history records membership changes too: each row keeps how many
-- sessions the room counted after it. The snapshot keeps its count so the
-- cleaner can find rooms that count other sessions than the table holds.
ALTER TABLE room_transitions ADD COLUMN sessions INTEGER CHECK (sessions >= 0);
ALTER TABLE room_snapshots ADD COLUMN sessions INTEGER NOT NULL DEFAULT 0 CHECK (sessions >= 0);
UPDATE room_snapshots SET sessions = jsonb_array_length(snapshot->'context'->'sessions')
  WHERE jsonb_typeof(snapshot->'context'->'sessions') = 'array';
