DROP INDEX loans_school_checked_out;
ALTER TABLE loans DROP COLUMN classification;
