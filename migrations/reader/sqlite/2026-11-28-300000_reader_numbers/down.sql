DROP INDEX readers_school_number_key;
ALTER TABLE readers DROP COLUMN name_key;
ALTER TABLE readers DROP COLUMN number;
