-- How many times each loan was renewed; its rule says how many are allowed.
ALTER TABLE loans ADD COLUMN renewals INTEGER NOT NULL DEFAULT 0;
