DROP TABLE spent_refresh_tokens;
DROP TABLE devices;
DROP TABLE sessions;
