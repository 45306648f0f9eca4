-- Readers' PINs, for signing in with the library card at kiosks, the
-- portal and phones, with the same lockout as staff sign-ins. Kept apart
-- from `readers` so that no reader listing ever carries a PIN hash.
CREATE TABLE reader_credentials (
    reader_id TEXT PRIMARY KEY NOT NULL REFERENCES readers (id),
    pin_hash TEXT NOT NULL,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);
