-- The full bibliographic record and the copy's life: what a cataloguer
-- enters for a title, item types (data: circulation rules key on them),
-- shelf locations per school, and each copy's status history and repairs.

ALTER TABLE titles ADD COLUMN subtitle TEXT NOT NULL DEFAULT '';
ALTER TABLE titles ADD COLUMN edition TEXT NOT NULL DEFAULT '';
ALTER TABLE titles ADD COLUMN pages INTEGER NOT NULL DEFAULT 0;
ALTER TABLE titles ADD COLUMN series TEXT NOT NULL DEFAULT '';
ALTER TABLE titles ADD COLUMN summary TEXT NOT NULL DEFAULT '';
-- Grades the book suits, 0 = kindergarten … 12; NULL when not said.
ALTER TABLE titles ADD COLUMN audience_min_grade INTEGER;
ALTER TABLE titles ADD COLUMN audience_max_grade INTEGER;
-- 中图法 (CLC) class number, e.g. I287.45; Dewey number, e.g. 813.54.
ALTER TABLE titles ADD COLUMN clc TEXT NOT NULL DEFAULT '';
ALTER TABLE titles ADD COLUMN dewey TEXT NOT NULL DEFAULT '';
-- Call number for new copies: class number / author mark.
ALTER TABLE titles ADD COLUMN call_number TEXT NOT NULL DEFAULT '';
CREATE INDEX titles_clc ON titles (clc);

CREATE TABLE title_subjects (
    title_id TEXT NOT NULL REFERENCES titles (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    subject TEXT NOT NULL,
    PRIMARY KEY (title_id, position)
);

-- Every ISBN of a title (hardback, paperback, a reprint); the primary one
-- is also titles.isbn13. One title per ISBN across the district.
CREATE TABLE title_isbns (
    isbn13 TEXT PRIMARY KEY NOT NULL,
    title_id TEXT NOT NULL REFERENCES titles (id) ON DELETE CASCADE
);
CREATE INDEX title_isbns_title ON title_isbns (title_id);
INSERT INTO title_isbns (isbn13, title_id) SELECT isbn13, id FROM titles WHERE isbn13 IS NOT NULL;

CREATE TABLE item_types (
    code TEXT PRIMARY KEY NOT NULL,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO item_types (code, name_zh, name_en, created_at) VALUES
    ('book', '图书', 'Book', CURRENT_TIMESTAMP),
    ('picture_book', '绘本', 'Picture book', CURRENT_TIMESTAMP),
    ('magazine', '期刊', 'Magazine', CURRENT_TIMESTAMP),
    ('reference', '工具书', 'Reference', CURRENT_TIMESTAMP),
    ('textbook_set', '教材套', 'Textbook set', CURRENT_TIMESTAMP),
    ('audiovisual', '音像资料', 'Audiovisual', CURRENT_TIMESTAMP);

CREATE TABLE shelf_locations (
    id TEXT PRIMARY KEY NOT NULL,
    school_id TEXT NOT NULL,
    -- As signposted, e.g. 一楼 A 区 3 架.
    name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX shelf_locations_school_name_key ON shelf_locations (school_id, name);

-- SQLite cannot add a column with both REFERENCES and a non-NULL default,
-- so item_type is checked against item_types by the catalog's code.
ALTER TABLE copies ADD COLUMN location_id TEXT REFERENCES shelf_locations (id);
ALTER TABLE copies ADD COLUMN item_type TEXT NOT NULL DEFAULT 'book';
-- Price in minor units (fen) of currency; NULL when unknown.
ALTER TABLE copies ADD COLUMN price_minor INTEGER;
ALTER TABLE copies ADD COLUMN currency TEXT NOT NULL DEFAULT 'CNY';
ALTER TABLE copies ADD COLUMN acquired_on DATE;
ALTER TABLE copies ADD COLUMN acquisition_source TEXT NOT NULL DEFAULT '';
ALTER TABLE copies ADD COLUMN condition_note TEXT NOT NULL DEFAULT '';
-- Availability view, from circulation's hold events.
ALTER TABLE copies ADD COLUMN on_hold_shelf BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE copies ADD COLUMN in_transit BOOLEAN NOT NULL DEFAULT FALSE;
-- When the status last changed: new arrivals are copies made available.
ALTER TABLE copies ADD COLUMN status_changed_at TIMESTAMP;
UPDATE copies SET status_changed_at = created_at;
CREATE INDEX copies_location ON copies (location_id, id);
CREATE INDEX copies_school_status ON copies (school_id, status, id);

-- Who changed a copy's status, when and why.
CREATE TABLE copy_status_history (
    id TEXT PRIMARY KEY NOT NULL,
    copy_id TEXT NOT NULL REFERENCES copies (id),
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    reason TEXT NOT NULL,
    -- Staff account id, or the service that changed it.
    actor_id TEXT NOT NULL,
    repair_ticket_id TEXT,
    occurred_at TIMESTAMP NOT NULL
);
CREATE INDEX copy_status_history_copy ON copy_status_history (copy_id, occurred_at);

-- A damaged copy's repair: opened when it goes in for repair, closed when
-- it comes back (or is withdrawn instead).
CREATE TABLE repair_tickets (
    id TEXT PRIMARY KEY NOT NULL,
    copy_id TEXT NOT NULL REFERENCES copies (id),
    notes TEXT NOT NULL,
    cost_minor INTEGER NOT NULL DEFAULT 0,
    currency TEXT NOT NULL DEFAULT 'CNY',
    opened_by TEXT NOT NULL,
    opened_at TIMESTAMP NOT NULL,
    closed_by TEXT,
    closed_at TIMESTAMP
);
CREATE UNIQUE INDEX repair_tickets_open_key ON repair_tickets (copy_id) WHERE closed_at IS NULL;
