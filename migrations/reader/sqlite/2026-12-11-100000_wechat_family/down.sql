DROP INDEX sessions_binding;
ALTER TABLE sessions DROP COLUMN binding_id;
DROP TABLE binding_codes;
DROP TABLE reader_bindings;
DROP TABLE wechat_accounts;
