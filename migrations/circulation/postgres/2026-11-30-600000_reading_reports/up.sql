-- Reading reports: each loan keeps the class number of its copy's call
-- number at check-out (e.g. 'I287.45' of 'I287.45/C12'), so the
-- classification spread of past loans survives recataloguing; reports read
-- a school's loans by check-out time.
ALTER TABLE loans ADD COLUMN classification TEXT NOT NULL DEFAULT '';
CREATE INDEX loans_school_checked_out ON loans (school_id, checked_out_at);
