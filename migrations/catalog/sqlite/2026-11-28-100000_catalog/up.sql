-- The catalog: titles (bibliographic records), their contributors, and
-- copies (the books on the shelves) with the availability view kept from
-- circulation's loan events.

CREATE TABLE titles (
    id TEXT PRIMARY KEY NOT NULL,
    -- Canonical ISBN-13, digits only; NULL for books without an ISBN.
    isbn13 TEXT,
    title TEXT NOT NULL,
    publisher TEXT NOT NULL,
    publication_year INTEGER NOT NULL,
    language TEXT NOT NULL,
    -- Lower-cased title and contributor names, one per line: what search
    -- matches substrings against.
    search_text TEXT NOT NULL,
    -- Lower-cased trimmed title: ranking and ordering of search hits.
    title_key TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX titles_isbn13_key ON titles (isbn13);
CREATE INDEX titles_title_key ON titles (title_key, id);

CREATE TABLE title_contributors (
    title_id TEXT NOT NULL REFERENCES titles (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    PRIMARY KEY (title_id, position)
);

CREATE TABLE copies (
    id TEXT PRIMARY KEY NOT NULL,
    title_id TEXT NOT NULL REFERENCES titles (id),
    barcode TEXT NOT NULL,
    school_id TEXT NOT NULL,
    status TEXT NOT NULL,
    call_number TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    -- Availability view, from circulation's events.
    on_loan BOOLEAN NOT NULL DEFAULT FALSE,
    loan_due_at TIMESTAMP,
    -- occurred_at of the last loan event applied; older events are ignored.
    loan_event_at TIMESTAMP
);
CREATE UNIQUE INDEX copies_barcode_key ON copies (barcode);
CREATE INDEX copies_title_school ON copies (title_id, school_id, id);
