DROP TABLE room_server_assignments;
