-- The room machine's memory: an append-only transition log and the latest snapshot.
CREATE TABLE room_transitions (
  room_id      BIGINT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
  seq          INTEGER NOT NULL CHECK (seq > 0),
  from_state   TEXT NOT NULL,
  event        TEXT NOT NULL,
  to_state     TEXT NOT NULL,
  gateway_name VARCHAR(50),
  at           TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (room_id, seq)
);

CREATE TABLE room_snapshots (
  room_id     BIGINT PRIMARY KEY REFERENCES rooms (id) ON DELETE CASCADE,
  seq         INTEGER NOT NULL,
  state       TEXT NOT NULL,
  snapshot    JSONB NOT NULL,
  -- when the machine's pending timer (drain grace, reservation TTL) fires
  deadline_at TIMESTAMPTZ,
  updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX room_snapshots_by_deadline ON room_snapshots (deadline_at) WHERE deadline_at IS NOT NULL;
