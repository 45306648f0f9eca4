DROP TABLE year_end_runs;
DROP TABLE reader_notes;
DROP TABLE reader_preferences;
DROP TABLE reader_contacts;
