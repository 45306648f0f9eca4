DROP TABLE idempotency_keys;
DROP TABLE consumed_events;
DROP TABLE relay_leases;
DROP TABLE outbox_deliveries;
DROP TABLE outbox_events;
