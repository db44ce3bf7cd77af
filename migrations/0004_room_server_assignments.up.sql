-- Scale mode: which gateway hosts a room while it is in use (the Go service's table).
CREATE TABLE room_server_assignments (
  room_id      BIGINT PRIMARY KEY REFERENCES rooms (id) ON DELETE CASCADE,
  gateway_name VARCHAR(50) NOT NULL,
  region       VARCHAR(50),
  assigned_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
  last_used_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX room_server_assignments_by_gateway ON room_server_assignments (gateway_name);
