-- The student or staff number a school's own system knows a reader by
-- (unique within the school), and the lower-cased name readers are
-- searched by.
ALTER TABLE readers ADD COLUMN number TEXT;
ALTER TABLE readers ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
UPDATE readers SET name_key = lower(name);
CREATE UNIQUE INDEX readers_school_number_key ON readers (school_id, number) WHERE number IS NOT NULL;
