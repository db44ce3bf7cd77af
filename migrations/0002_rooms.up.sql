-- Rooms: conference rooms, each with a default gateway (legacy mode) and a join code.
CREATE TABLE rooms (
  id                 BIGSERIAL PRIMARY KEY,
  -- the room number clients use: the Janus videoroom id
  room               BIGINT NOT NULL UNIQUE CHECK (room > 0),
  name               TEXT NOT NULL,
  default_gateway_id BIGINT REFERENCES gateways (id),
  region             VARCHAR(50),
  join_code          CHAR(6) NOT NULL UNIQUE CHECK (join_code ~ '^[A-Z0-9]{6}$'),
  disabled           BOOLEAN NOT NULL DEFAULT false,
  removed_at         TIMESTAMPTZ,
  created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at         TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX rooms_by_default_gateway ON rooms (default_gateway_id);
