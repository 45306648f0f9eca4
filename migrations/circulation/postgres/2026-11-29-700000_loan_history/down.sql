DROP INDEX loans_anonymize_due;
ALTER TABLE loans DROP COLUMN anonymized_at;
ALTER TABLE loans DROP COLUMN anonymize_after;
ALTER TABLE loans DROP COLUMN history_days;
ALTER TABLE loans DROP COLUMN history_retention;
DELETE FROM loans WHERE reader_id IS NULL;
ALTER TABLE loans ALTER COLUMN reader_id SET NOT NULL;
