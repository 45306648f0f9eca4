ALTER TABLE devices DROP COLUMN crlf;
ALTER TABLE devices DROP COLUMN language;
ALTER TABLE devices DROP COLUMN charset;
ALTER TABLE devices DROP COLUMN card_only;
