ALTER TABLE room_server_assignments DROP COLUMN reserved;
