ALTER TABLE loans DROP COLUMN claimed_returned_at;
ALTER TABLE loans DROP COLUMN lost_at;
