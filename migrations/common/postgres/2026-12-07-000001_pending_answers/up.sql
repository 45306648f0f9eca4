-- A request id is claimed before its call's change is made: the row exists
-- (in the call's own transaction, or committed for a call that spans
-- several) before its answer does. A duplicate waits on the row instead of
-- racing the first call. `response` is NULL until the answer is stored.
ALTER TABLE idempotency_keys ALTER COLUMN response DROP NOT NULL;
