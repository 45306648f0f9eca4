DROP INDEX loans_anonymize_due;
ALTER TABLE loans DROP COLUMN anonymized_at;
ALTER TABLE loans DROP COLUMN anonymize_after;
ALTER TABLE loans DROP COLUMN history_days;
ALTER TABLE loans DROP COLUMN history_retention;
