DROP TABLE reader_credentials;
