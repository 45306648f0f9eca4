-- Search entries carry their title's key (decision record 0004): a term's
-- entries are stored in the order its hits are shown, so a search reads
-- the few entries of its page instead of ranking every candidate. Words
-- are also indexed by their prefixes; the entries are rebuilt by the
-- catalog at start-up (search::index_unindexed), which re-indexes every
-- title whose field texts are missing.
DROP TABLE title_search_terms;
CREATE TABLE title_search_terms (
    term TEXT COLLATE "C" NOT NULL,
    -- titles.title_key of the title (code-point order, like SQLite).
    title_key TEXT COLLATE "C" NOT NULL,
    -- No foreign key: the entries are derived from the title and rewritten
    -- whole by search::index_title; bulk loads skip a check per entry.
    title_id TEXT NOT NULL,
    PRIMARY KEY (term, title_key, title_id)
);
-- A query's other look-ups are checked per candidate, and re-indexing a
-- title deletes its entries, by title.
CREATE INDEX title_search_terms_title ON title_search_terms (title_id, term);
DELETE FROM title_search_fields;
