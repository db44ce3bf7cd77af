DROP TABLE room_snapshots;
DROP TABLE room_transitions;
