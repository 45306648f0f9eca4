-- Families on phones. A WeChat account (one openid of one mini-program)
-- signs in through the gateway; it is bound to the readers it may act
-- for: the reader's own account (relation 'self') or a guardian's, matched
-- to a guardian contact of the reader. Binding tickets (a first sign-in
-- with nothing bound) and printed binding codes are secrets: only their
-- SHA-256 hashes are stored, and each works once.
CREATE TABLE wechat_accounts (
    id TEXT PRIMARY KEY NOT NULL,
    app_id TEXT NOT NULL,
    openid TEXT NOT NULL,
    unionid TEXT,
    binding_ticket_hash TEXT,
    binding_ticket_expires_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    last_sign_in_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX wechat_accounts_openid ON wechat_accounts (app_id, openid);
CREATE UNIQUE INDEX wechat_accounts_ticket ON wechat_accounts (binding_ticket_hash);

CREATE TABLE reader_bindings (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES wechat_accounts (id),
    reader_id TEXT NOT NULL REFERENCES readers (id),
    relation TEXT NOT NULL,
    proved_by TEXT NOT NULL,
    guardian_contact_id TEXT,
    created_at TIMESTAMP NOT NULL,
    last_sign_in_at TIMESTAMP
);
CREATE UNIQUE INDEX reader_bindings_account_reader ON reader_bindings (account_id, reader_id);
CREATE INDEX reader_bindings_reader ON reader_bindings (reader_id);

CREATE TABLE binding_codes (
    id TEXT PRIMARY KEY NOT NULL,
    reader_id TEXT NOT NULL REFERENCES readers (id),
    code_hash TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX binding_codes_reader ON binding_codes (reader_id, created_at);

-- A session opened through a binding names it: removing the binding ends
-- the session, and a refresh keeps the WeChat account in the token.
ALTER TABLE sessions ADD COLUMN binding_id TEXT;
CREATE INDEX sessions_binding ON sessions (binding_id);
