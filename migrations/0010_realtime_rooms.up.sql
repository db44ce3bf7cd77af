-- Rooms created over the real-time API (seed 003): whether a user must be
-- let in before joining. Their users are sessions (mic, camera, screen).
ALTER TABLE rooms ADD COLUMN require_access_before_joining BOOLEAN NOT NULL DEFAULT false;

-- Broadcasts between service processes (the Socket.IO Postgres adapter):
-- payloads too large for NOTIFY travel through this table; the adapter
-- deletes rows older than its cleanup interval.
CREATE TABLE socket_io_attachments (
  id         BIGSERIAL UNIQUE,
  created_at TIMESTAMPTZ DEFAULT now(),
  payload    BYTEA
);
