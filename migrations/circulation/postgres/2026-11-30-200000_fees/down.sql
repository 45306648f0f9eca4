ALTER TABLE loans DROP COLUMN suspended_until;
DROP TABLE fee_entries;
DROP TABLE fees;
