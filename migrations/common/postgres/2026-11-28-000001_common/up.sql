-- Tables every Lectern service has: the transactional outbox and its relay
-- leases, consumed events (consumers process each event once) and
-- idempotency keys (a retried call returns its first answer).

CREATE TABLE outbox_events (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    subject TEXT NOT NULL,
    payload BYTEA NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX outbox_events_event_id_key ON outbox_events (event_id);

CREATE TABLE outbox_deliveries (
    seq BIGINT NOT NULL REFERENCES outbox_events (seq),
    subscriber TEXT NOT NULL,
    delivered_at TIMESTAMP,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    PRIMARY KEY (subscriber, seq)
);
CREATE INDEX outbox_deliveries_pending ON outbox_deliveries (subscriber, seq)
    WHERE delivered_at IS NULL;

CREATE TABLE relay_leases (
    subscriber TEXT PRIMARY KEY NOT NULL,
    holder TEXT NOT NULL,
    lease_until TIMESTAMP NOT NULL
);

CREATE TABLE consumed_events (
    event_id TEXT PRIMARY KEY NOT NULL,
    event_type TEXT NOT NULL,
    consumed_at TIMESTAMP NOT NULL
);

CREATE TABLE idempotency_keys (
    request_id TEXT PRIMARY KEY NOT NULL,
    operation TEXT NOT NULL,
    response BYTEA NOT NULL,
    created_at TIMESTAMP NOT NULL
);
