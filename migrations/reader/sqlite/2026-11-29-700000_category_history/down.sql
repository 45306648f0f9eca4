ALTER TABLE reader_categories DROP COLUMN history_days;
ALTER TABLE reader_categories DROP COLUMN history_retention;
