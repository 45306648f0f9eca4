DROP TABLE school_terms;
DROP TABLE school_closures;
DROP TABLE school_calendars;
