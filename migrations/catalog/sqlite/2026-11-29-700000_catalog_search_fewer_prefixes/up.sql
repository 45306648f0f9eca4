-- Words are now indexed by their prefixes of 3 and 5 characters only, not
-- 3 to 6 (decision record 0004): each stored prefix cost every imported
-- title one more B-tree insert per word. The entries are rebuilt under the
-- new rules at the catalog's next start (search::index_unindexed) for
-- every title whose field texts are missing.
DELETE FROM title_search_terms;
DELETE FROM title_search_fields;
