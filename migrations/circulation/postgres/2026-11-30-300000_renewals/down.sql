ALTER TABLE loans DROP COLUMN renewals;
