-- Entries are rebuilt at start-up under whichever rules the code has.
DELETE FROM title_search_terms;
DELETE FROM title_search_fields;
