-- A gateway's credentials for POST /event (Basic <gateway name>:<password>):
-- only a bcrypt hash is stored; NULL means the gateway has none (only the
-- service user may post its events).
ALTER TABLE gateways ADD COLUMN events_password_hash TEXT;
