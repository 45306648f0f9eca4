-- The district's MARC pool: every bibliographic record imported from a
-- MARC file (or loaded into the shared pool), kept by ISBN so that a
-- librarian scanning a new book's ISBN gets the title catalogued from it.
-- The record is kept whole, as MARCXML without holdings, so nothing the
-- file said is lost.
CREATE TABLE marc_pool (
    -- Canonical ISBN-13; a record with several ISBNs has one row for each.
    isbn13 TEXT PRIMARY KEY NOT NULL,
    -- The title proper, for listings.
    title TEXT NOT NULL,
    -- MARC21 or CNMARC.
    flavour TEXT NOT NULL,
    -- One MARCXML <record>.
    record_xml TEXT NOT NULL,
    -- Where it came from (the file name given at import).
    source TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
