-- A session's country is what the client calls it: the Galaxy client sends
-- the country's name ("Israel"), others a two-letter code.
ALTER TABLE sessions ALTER COLUMN country TYPE VARCHAR(64);
