DROP TABLE gateway_loads;
ALTER TABLE room_server_assignments DROP COLUMN load;
