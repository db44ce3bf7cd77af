-- A keepalive rewrites its session's row; with no index on the keepalive
-- time Postgres can update the row in place (a HOT update: no new entry in
-- any of the table's indexes), which is most of a keepalive's cost at a
-- lesson start. The cleaner finds dead sessions among the live ones without
-- it (a minute apart, over live rows only). Room on each page for the new
-- row versions keeps the updates in place.
DROP INDEX sessions_active_by_keepalive;
ALTER TABLE sessions SET (fillfactor = 80);
