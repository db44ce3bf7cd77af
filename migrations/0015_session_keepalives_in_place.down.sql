ALTER TABLE sessions RESET (fillfactor);
CREATE INDEX sessions_active_by_keepalive ON sessions (updated_at) WHERE removed_at IS NULL;
