-- A reader's in-app notices, made from circulation's events (one per event).
CREATE TABLE notices (
    id TEXT PRIMARY KEY NOT NULL,
    reader_id TEXT NOT NULL,
    school_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    loan_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    due_date TEXT,
    occurred_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX notices_event_id_key ON notices (event_id);
CREATE INDEX notices_reader ON notices (reader_id, id);
