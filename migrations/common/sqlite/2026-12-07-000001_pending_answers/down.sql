CREATE TABLE idempotency_keys_old (
    request_id TEXT PRIMARY KEY NOT NULL,
    operation TEXT NOT NULL,
    response BLOB NOT NULL,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO idempotency_keys_old (request_id, operation, response, created_at)
    SELECT request_id, operation, response, created_at FROM idempotency_keys
    WHERE response IS NOT NULL;
DROP TABLE idempotency_keys;
ALTER TABLE idempotency_keys_old RENAME TO idempotency_keys;
