-- A request id is claimed before its call's change is made: the row exists
-- (in the call's own transaction, or committed for a call that spans
-- several) before its answer does. A duplicate waits on the row instead of
-- racing the first call. `response` is NULL until the answer is stored.
-- SQLite cannot drop a NOT NULL constraint in place: the table is rebuilt.
CREATE TABLE idempotency_keys_new (
    request_id TEXT PRIMARY KEY NOT NULL,
    operation TEXT NOT NULL,
    response BLOB,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO idempotency_keys_new (request_id, operation, response, created_at)
    SELECT request_id, operation, response, created_at FROM idempotency_keys;
DROP TABLE idempotency_keys;
ALTER TABLE idempotency_keys_new RENAME TO idempotency_keys;
