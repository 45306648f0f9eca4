-- Back to the loans of before history rules. reader_id stays nullable here
-- (SQLite cannot add NOT NULL back without another rebuild); anonymized
-- loans cannot name a reader again, so they go.
DELETE FROM loans WHERE reader_id IS NULL;
DROP INDEX loans_anonymize_due;
ALTER TABLE loans DROP COLUMN anonymized_at;
ALTER TABLE loans DROP COLUMN anonymize_after;
ALTER TABLE loans DROP COLUMN history_days;
ALTER TABLE loans DROP COLUMN history_retention;
