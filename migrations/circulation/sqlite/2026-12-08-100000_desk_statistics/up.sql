-- Where each loan's copy was taken back: the school whose desk, kiosk or
-- book drop took it. Returns are taken anywhere in the district, so it
-- need not be the lending school. A school's numbers at a glance
-- (`GetDeskStatistics`) count its returns of the day here; loans returned
-- before this table existed have no row. A table of its own because
-- `loans` has as many columns as diesel's tables may have (32).
CREATE TABLE loan_returns (
    loan_id TEXT PRIMARY KEY NOT NULL,
    school_id TEXT NOT NULL,
    returned_at TIMESTAMP NOT NULL
);
CREATE INDEX loan_returns_school ON loan_returns (school_id, returned_at);
-- A school's hold shelf, counted without reading the holds table.
CREATE INDEX holds_pickup_ready ON holds (pickup_school_id) WHERE status = 'ready';
