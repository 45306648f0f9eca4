-- Each school's calendar: the weekdays it is always closed, and its
-- holidays and term breaks (ranges of days, both ends included). A due day
-- that falls on a closed day moves to the next open day. A school without
-- a row is open every day. Days are 'YYYY-MM-DD' in the school's time zone.
CREATE TABLE school_calendars (
    school_id TEXT PRIMARY KEY NOT NULL,
    -- ISO weekday numbers (1 = Monday … 7 = Sunday), comma-separated: '6,7'.
    closed_weekdays TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE TABLE school_closures (
    school_id TEXT NOT NULL REFERENCES school_calendars (school_id) ON DELETE CASCADE,
    first_day TEXT NOT NULL,
    last_day TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('holiday', 'term_break')),
    name TEXT NOT NULL,
    PRIMARY KEY (school_id, first_day, last_day)
);
CREATE TABLE school_terms (
    school_id TEXT NOT NULL REFERENCES school_calendars (school_id) ON DELETE CASCADE,
    first_day TEXT NOT NULL,
    last_day TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (school_id, first_day)
);
