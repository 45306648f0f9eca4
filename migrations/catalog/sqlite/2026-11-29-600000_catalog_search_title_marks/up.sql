-- The terms of each title proper are also stored with a mark in front
-- (decision record 0004), so the title ranks of a search read only titles
-- whose title proper has the query's look-ups. The catalog rebuilds the
-- entries at start-up (search::index_unindexed) for every title whose
-- field texts are missing.
DELETE FROM title_search_terms;
DELETE FROM title_search_fields;
-- The key a title's entries are stored under, kept with its field texts:
-- together they give the primary keys of the entries to delete when the
-- title is indexed again.
ALTER TABLE title_search_fields ADD COLUMN title_key TEXT NOT NULL DEFAULT '';
-- Re-indexing a title finds its old entries by their primary keys, from
-- the field texts and key stored with it, and a query's other look-ups
-- are exact terms: the index by title only cost every import a second
-- B-tree insert per entry.
DROP INDEX title_search_terms_title;
