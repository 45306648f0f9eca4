-- Loan history rules: each loan records, at check-out, its reader
-- category's history rule; a returned loan stops naming its reader once
-- `anonymize_after` has passed (or the reader is erased). `reader_id` is
-- then NULL and the snapshot (category, class, grade, school, title) stays
-- for statistics.
ALTER TABLE loans ALTER COLUMN reader_id DROP NOT NULL;
ALTER TABLE loans ADD COLUMN history_retention TEXT NOT NULL DEFAULT 'keep'
    CHECK (history_retention IN ('keep', 'anonymize_after_days', 'never_keep'));
ALTER TABLE loans ADD COLUMN history_days INTEGER;
ALTER TABLE loans ADD COLUMN anonymize_after TIMESTAMP;
ALTER TABLE loans ADD COLUMN anonymized_at TIMESTAMP;
-- The anonymization job finds the loans whose time has come.
CREATE INDEX loans_anonymize_due ON loans (anonymize_after) WHERE reader_id IS NOT NULL;
