-- Loans: a copy lent to a reader. The reader's category, class and grade and
-- the copy's title and school are copied in at check-out, so reports on past
-- loans survive later changes to readers and the catalog.
CREATE TABLE loans (
    id TEXT PRIMARY KEY NOT NULL,
    reader_id TEXT NOT NULL,
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
    created_at TIMESTAMP NOT NULL
);
-- THE rule of circulation: one open loan per copy, so two stations can never
-- lend one copy twice, whatever the code above it does.
CREATE UNIQUE INDEX loans_copy_id_open_key ON loans (copy_id) WHERE returned_at IS NULL;
-- Check-in finds the open loan by the scanned barcode.
CREATE INDEX loans_copy_barcode_open ON loans (copy_barcode) WHERE returned_at IS NULL;
-- A reader's loans, newest first (ids are UUIDv7, so id order is time order).
CREATE INDEX loans_reader ON loans (reader_id, id);
