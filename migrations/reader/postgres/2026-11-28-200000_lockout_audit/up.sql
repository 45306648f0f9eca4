-- Sign-in lockout: after too many wrong passwords in a row an account is
-- locked until `locked_until`, whatever channel the attempts came through.
ALTER TABLE staff_accounts ADD COLUMN locked_until TIMESTAMP;

-- The audit log: sign-ins, failed sign-ins and lockouts (and later
-- personal-data reads and changes, overrides, fee waivers). Ids only, never
-- names, passwords or contact details.
CREATE TABLE audit_events (
    id TEXT PRIMARY KEY NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    action TEXT NOT NULL,
    outcome TEXT NOT NULL,
    actor_id TEXT,
    subject_id TEXT,
    detail TEXT
);
CREATE INDEX audit_events_occurred_at ON audit_events (occurred_at);
CREATE INDEX audit_events_subject ON audit_events (subject_id, occurred_at);
