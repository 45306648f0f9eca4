DROP TABLE audit_events;
ALTER TABLE staff_accounts DROP COLUMN locked_until;
