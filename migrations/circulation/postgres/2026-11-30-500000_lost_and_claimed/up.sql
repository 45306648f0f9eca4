-- A loan whose copy was declared lost stays open (the copy cannot be lent
-- again) until the copy is found and checked in; one the reader says they
-- returned is marked so it stops counting against them while the library
-- looks. (Due days changed by hand are recorded by their events.)
ALTER TABLE loans ADD COLUMN lost_at TIMESTAMP;
ALTER TABLE loans ADD COLUMN claimed_returned_at TIMESTAMP;
