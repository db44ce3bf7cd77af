ALTER TABLE sessions ALTER COLUMN country TYPE VARCHAR(2)
  USING CASE WHEN length(country) <= 2 THEN country END;
