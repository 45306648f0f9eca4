DROP TABLE signing_keys;
DROP TABLE staff_accounts;
DROP TABLE reader_blocks;
DROP TABLE readers;
DROP TABLE reader_categories;
DROP TABLE classes;
DROP TABLE schools;
