DROP INDEX copies_school_status_changed;
DROP TABLE title_checkouts;
DROP TABLE title_search_fields;
DROP TABLE title_search_terms;
