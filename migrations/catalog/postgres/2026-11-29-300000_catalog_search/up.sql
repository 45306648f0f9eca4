-- Catalog search index (decision record 0004): index entries of every
-- title, the lower-cased text of each searchable field, and the discovery
-- lists (new arrivals, popular titles) kept from circulation's events.

-- Two-character windows of Chinese (and other ideograph) text, each run's
-- last character followed by a space, and whole Latin words. The "C"
-- collation orders terms by code point like SQLite, so a prefix range
-- (term >= p AND term < p+1) is the same range on both; the primary key
-- is a B-tree on (term, title_id), read index-only after VACUUM.
CREATE TABLE title_search_terms (
    term TEXT COLLATE "C" NOT NULL,
    -- No foreign key: the entries are derived from the title and rewritten
    -- whole by search::index_title; bulk loads skip a check per entry.
    title_id TEXT NOT NULL,
    PRIMARY KEY (term, title_id)
);
-- Re-indexing a title deletes its entries by title.
CREATE INDEX title_search_terms_title ON title_search_terms (title_id);

-- Lower-cased text of each field a search can be limited to, one value per
-- line (a query cannot contain a line break, so it never spans two).
CREATE TABLE title_search_fields (
    title_id TEXT PRIMARY KEY NOT NULL REFERENCES titles (id) ON DELETE CASCADE,
    -- Title proper, subtitle, series.
    title_text TEXT COLLATE "C" NOT NULL,
    -- Contributor names.
    author_text TEXT COLLATE "C" NOT NULL,
    -- Subject headings.
    subject_text TEXT COLLATE "C" NOT NULL
);

-- One row per check-out, from circulation's loan.checked_out events: what
-- "popular at this school (and grade)" counts. No reader is named.
CREATE TABLE title_checkouts (
    loan_id TEXT PRIMARY KEY NOT NULL,
    title_id TEXT NOT NULL,
    school_id TEXT NOT NULL,
    -- The borrower's grade at check-out (0 = kindergarten … 12); NULL for
    -- staff borrowers or when the event did not say.
    grade INTEGER,
    checked_out_at TIMESTAMP NOT NULL
);
CREATE INDEX title_checkouts_school_time ON title_checkouts (school_id, checked_out_at);

-- New arrivals: a school's copies by when they were made available.
CREATE INDEX copies_school_status_changed ON copies (school_id, status_changed_at);
