ALTER TABLE title_search_fields DROP COLUMN title_key;
CREATE INDEX title_search_terms_title ON title_search_terms (title_id, term);
-- Entries are rebuilt at start-up under whichever rules the code has.
DELETE FROM title_search_terms;
DELETE FROM title_search_fields;
