-- The reader service: the district's schools and classes, its readers and
-- their manual blocks, staff accounts, and the keys that sign Lectern's
-- identity tokens.

CREATE TABLE schools (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX schools_code_key ON schools (code);
CREATE INDEX schools_name ON schools (name, id);

CREATE TABLE classes (
    id TEXT PRIMARY KEY NOT NULL,
    school_id TEXT NOT NULL REFERENCES schools (id),
    name TEXT NOT NULL,
    grade INTEGER NOT NULL CHECK (grade BETWEEN 1 AND 12),
    school_year TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX classes_school_id_school_year_name_key ON classes (school_id, school_year, name);
CREATE INDEX classes_school_grade ON classes (school_id, grade, name);

-- Circulation rules are chosen by category; the codes are part of the API.
CREATE TABLE reader_categories (
    code TEXT PRIMARY KEY NOT NULL,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL
);
INSERT INTO reader_categories (code, name_zh, name_en) VALUES ('student', '学生', 'Student');
INSERT INTO reader_categories (code, name_zh, name_en) VALUES ('teacher', '教师', 'Teacher');
INSERT INTO reader_categories (code, name_zh, name_en) VALUES ('staff', '职工', 'Staff');
INSERT INTO reader_categories (code, name_zh, name_en) VALUES ('other', '其他', 'Other');

CREATE TABLE readers (
    id TEXT PRIMARY KEY NOT NULL,
    school_id TEXT NOT NULL REFERENCES schools (id),
    card_barcode TEXT NOT NULL,
    name TEXT NOT NULL,
    category TEXT NOT NULL REFERENCES reader_categories (code),
    class_id TEXT REFERENCES classes (id),
    status TEXT NOT NULL CHECK (status IN ('active', 'inactive')),
    expires_on DATE,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX readers_card_barcode_key ON readers (card_barcode);
CREATE INDEX readers_school_name ON readers (school_id, name, id);
CREATE INDEX readers_class ON readers (class_id);

-- Lifted blocks stay, with who lifted them and when, for the record.
CREATE TABLE reader_blocks (
    id TEXT PRIMARY KEY NOT NULL,
    reader_id TEXT NOT NULL REFERENCES readers (id),
    reason TEXT NOT NULL,
    ends_on DATE,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL,
    lifted_at TIMESTAMP,
    lifted_by TEXT
);
CREATE INDEX reader_blocks_reader ON reader_blocks (reader_id);

CREATE TABLE staff_accounts (
    id TEXT PRIMARY KEY NOT NULL,
    username TEXT NOT NULL,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('district_admin', 'librarian', 'assistant')),
    password_hash TEXT NOT NULL,
    password_change_required BOOLEAN NOT NULL,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    password_changed_at TIMESTAMP
);
CREATE UNIQUE INDEX staff_accounts_username_key ON staff_accounts (username);

-- Ed25519 keys that sign tokens; a retired key no longer verifies any.
CREATE TABLE signing_keys (
    key_id TEXT PRIMARY KEY NOT NULL,
    private_key BYTEA NOT NULL,
    public_key BYTEA NOT NULL,
    created_at TIMESTAMP NOT NULL,
    retired_at TIMESTAMP
);
