-- Gateways: the Janus media servers rooms are placed on.
CREATE TABLE gateways (
  id          BIGSERIAL PRIMARY KEY,
  name        VARCHAR(50) NOT NULL UNIQUE,
  description TEXT NOT NULL DEFAULT '',
  -- users it can hold; NULL means MAX_SERVER_CAPACITY
  capacity    INTEGER CHECK (capacity IS NULL OR capacity > 0),
  region      VARCHAR(50),
  enabled     BOOLEAN NOT NULL DEFAULT true,
  -- an admin's drain: keeps its live rooms, takes no new ones
  draining    BOOLEAN NOT NULL DEFAULT false,
  -- from MQTT janus/<name>/status; NULL while unknown
  online      BOOLEAN,
  status_at   TIMESTAMPTZ,
  created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
