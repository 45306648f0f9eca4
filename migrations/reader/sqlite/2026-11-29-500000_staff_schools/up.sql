-- The schools a librarian or assistant works for. Every service refuses
-- them another school's readers, copies and loans; district admins have no
-- rows here and work for every school.
CREATE TABLE staff_schools (
    staff_id TEXT NOT NULL REFERENCES staff_accounts (id),
    school_id TEXT NOT NULL REFERENCES schools (id),
    PRIMARY KEY (staff_id, school_id)
);
CREATE INDEX staff_schools_school_id ON staff_schools (school_id);
