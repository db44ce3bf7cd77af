ALTER TABLE gateways DROP COLUMN events_password_hash;
