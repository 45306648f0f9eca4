-- Contact points, notification preferences and staff notes of readers,
-- and the record of each school's year-end promotions.

-- How to reach a reader, a guardian or the homeroom teacher. Personal data:
-- read only through the profile calls, never logged.
CREATE TABLE reader_contacts (
    id TEXT PRIMARY KEY NOT NULL,
    reader_id TEXT NOT NULL REFERENCES readers (id),
    who TEXT NOT NULL CHECK (who IN ('reader', 'guardian', 'homeroom_teacher')),
    channel TEXT NOT NULL CHECK (channel IN ('email', 'phone', 'wechat')),
    value TEXT NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX reader_contacts_reader_who_channel_value_key
    ON reader_contacts (reader_id, who, channel, value);

-- How a reader wants notices; no row means in-app only, in zh-CN.
CREATE TABLE reader_preferences (
    reader_id TEXT PRIMARY KEY NOT NULL REFERENCES readers (id),
    notify_email BOOLEAN NOT NULL DEFAULT FALSE,
    notify_sms BOOLEAN NOT NULL DEFAULT FALSE,
    notify_wechat BOOLEAN NOT NULL DEFAULT FALSE,
    notify_in_app BOOLEAN NOT NULL DEFAULT TRUE,
    language TEXT NOT NULL CHECK (language IN ('zh-CN', 'en')),
    updated_at TIMESTAMP NOT NULL
);

-- Notes staff keep on a reader.
CREATE TABLE reader_notes (
    id TEXT PRIMARY KEY NOT NULL,
    reader_id TEXT NOT NULL REFERENCES readers (id),
    body TEXT NOT NULL,
    author_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX reader_notes_reader ON reader_notes (reader_id, created_at);

-- One row per school and school year promoted: the unique index is what
-- makes a second year-end of the same year impossible, even when two
-- desks press the button at once.
CREATE TABLE year_end_runs (
    id TEXT PRIMARY KEY NOT NULL,
    school_id TEXT NOT NULL REFERENCES schools (id),
    from_school_year TEXT NOT NULL,
    to_school_year TEXT NOT NULL,
    top_grade INTEGER NOT NULL,
    classes_opened INTEGER NOT NULL,
    promoted_students INTEGER NOT NULL,
    graduates INTEGER NOT NULL,
    applied_by TEXT NOT NULL,
    applied_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX year_end_runs_school_id_from_school_year_key ON year_end_runs (school_id, from_school_year);
