DROP TABLE title_search_terms;
CREATE TABLE title_search_terms (
    term TEXT NOT NULL,
    title_id TEXT NOT NULL,
    PRIMARY KEY (term, title_id)
) WITHOUT ROWID;
CREATE INDEX title_search_terms_title ON title_search_terms (title_id);
DELETE FROM title_search_fields;
