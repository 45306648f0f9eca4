DROP INDEX loans_school_open_due;
