-- Loan history rules: each loan records, at check-out, its reader
-- category's history rule; a returned loan stops naming its reader once
-- `anonymize_after` has passed (or the reader is erased). `reader_id` is
-- then NULL and the snapshot (category, class, grade, school, title) stays
-- for statistics. SQLite cannot drop NOT NULL, so the table is rebuilt.
CREATE TABLE loans_new (
    id TEXT PRIMARY KEY NOT NULL,
    reader_id TEXT,
    copy_id TEXT NOT NULL,
    copy_barcode TEXT NOT NULL,
    title_id TEXT NOT NULL,
    title TEXT NOT NULL,
    school_id TEXT NOT NULL,
    checked_out_at TIMESTAMP NOT NULL,
    due_at TIMESTAMP NOT NULL,
    due_date TEXT NOT NULL,
    returned_at TIMESTAMP,
    reader_category TEXT NOT NULL,
    reader_class_id TEXT,
    reader_grade INTEGER NOT NULL,
    checked_out_by TEXT NOT NULL,
    checked_in_by TEXT,
    created_at TIMESTAMP NOT NULL,
    history_retention TEXT NOT NULL DEFAULT 'keep'
        CHECK (history_retention IN ('keep', 'anonymize_after_days', 'never_keep')),
    history_days INTEGER,
    anonymize_after TIMESTAMP,
    anonymized_at TIMESTAMP
);
INSERT INTO loans_new (id, reader_id, copy_id, copy_barcode, title_id, title, school_id, checked_out_at,
    due_at, due_date, returned_at, reader_category, reader_class_id, reader_grade, checked_out_by,
    checked_in_by, created_at)
SELECT id, reader_id, copy_id, copy_barcode, title_id, title, school_id, checked_out_at,
    due_at, due_date, returned_at, reader_category, reader_class_id, reader_grade, checked_out_by,
    checked_in_by, created_at
FROM loans;
DROP TABLE loans;
ALTER TABLE loans_new RENAME TO loans;
CREATE UNIQUE INDEX loans_copy_id_open_key ON loans (copy_id) WHERE returned_at IS NULL;
CREATE INDEX loans_copy_barcode_open ON loans (copy_barcode) WHERE returned_at IS NULL;
CREATE INDEX loans_reader ON loans (reader_id, id);
-- The anonymization job finds the loans whose time has come.
CREATE INDEX loans_anonymize_due ON loans (anonymize_after) WHERE reader_id IS NOT NULL;
