-- A device's settings: whether readers sign in with their card alone, the
-- character set and line ending a SIP2 machine speaks, and the language of
-- its screen messages.
ALTER TABLE devices ADD COLUMN card_only BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN charset TEXT NOT NULL DEFAULT 'utf-8';
ALTER TABLE devices ADD COLUMN language TEXT NOT NULL DEFAULT 'zh-CN';
ALTER TABLE devices ADD COLUMN crlf BOOLEAN NOT NULL DEFAULT 0;
