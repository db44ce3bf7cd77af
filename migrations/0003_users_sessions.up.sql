-- Users and their sessions: one session is one user in one room through one gateway.
CREATE TABLE users (
  id          BIGSERIAL PRIMARY KEY,
  -- the id clients use in PUT /users/:id
  account_id  TEXT NOT NULL UNIQUE,
  email       TEXT,
  first_name  TEXT,
  last_name   TEXT,
  username    TEXT,
  disabled    BOOLEAN NOT NULL DEFAULT false,
  created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
  removed_at  TIMESTAMPTZ
);

CREATE TABLE sessions (
  id                      BIGSERIAL PRIMARY KEY,
  user_id                 BIGINT NOT NULL REFERENCES users (id),
  room_id                 BIGINT REFERENCES rooms (id),
  gateway_id              BIGINT REFERENCES gateways (id),
  gateway_session         BIGINT,
  gateway_handle          BIGINT,
  gateway_feed            BIGINT,
  gateway_handle_textroom BIGINT,
  display                 TEXT,
  camera                  BOOLEAN NOT NULL DEFAULT false,
  mic                     BOOLEAN NOT NULL DEFAULT false,
  screen                  BOOLEAN NOT NULL DEFAULT false,
  question                BOOLEAN NOT NULL DEFAULT false,
  self_test               BOOLEAN NOT NULL DEFAULT false,
  sound_test              BOOLEAN NOT NULL DEFAULT false,
  country                 VARCHAR(2),
  user_agent              TEXT,
  ip_address              TEXT,
  extra                   JSONB,
  created_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
  -- the last keepalive
  updated_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
  removed_at              TIMESTAMPTZ
);

-- one live session per user, gateway and gateway session
CREATE UNIQUE INDEX sessions_live_key ON sessions (user_id, gateway_id, gateway_session) WHERE removed_at IS NULL;
CREATE INDEX sessions_active_by_room ON sessions (room_id) WHERE removed_at IS NULL;
CREATE INDEX sessions_active_by_gateway ON sessions (gateway_id) WHERE removed_at IS NULL;
-- the dead-session cleaner scans live sessions by last keepalive
CREATE INDEX sessions_active_by_keepalive ON sessions (updated_at) WHERE removed_at IS NULL;
