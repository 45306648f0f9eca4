-- Sign-in sessions: every interactive sign-in (staff, reader, device)
-- opens one. Access tokens name it in `sid`; the refresh token is stored
-- only as a SHA-256 hash. Signing out (or reusing an old refresh token)
-- sets `revoked_at`, and every server then refuses the session's tokens.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    subject_id TEXT NOT NULL,
    subject_kind TEXT NOT NULL,
    device_id TEXT,
    refresh_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    revoked_reason TEXT
);
CREATE UNIQUE INDEX sessions_refresh_hash ON sessions (refresh_hash);
CREATE INDEX sessions_revoked_at ON sessions (revoked_at);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- Refresh tokens already exchanged: presenting one again means it was
-- copied, and the whole session is revoked (reuse detection).
CREATE TABLE spent_refresh_tokens (
    refresh_hash TEXT PRIMARY KEY NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    spent_at TIMESTAMP NOT NULL
);
CREATE INDEX spent_refresh_tokens_session ON spent_refresh_tokens (session_id);

-- Self-service kiosks and SIP2 machines, each bound to one school. The key
-- is stored as an argon2id hash, like a password.
CREATE TABLE devices (
    id TEXT PRIMARY KEY NOT NULL,
    school_id TEXT NOT NULL REFERENCES schools (id),
    kind TEXT NOT NULL,
    label TEXT NOT NULL,
    key_hash TEXT NOT NULL,
    disabled BOOLEAN NOT NULL,
    failed_logins INTEGER NOT NULL,
    locked_until TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX devices_school ON devices (school_id, created_at);
