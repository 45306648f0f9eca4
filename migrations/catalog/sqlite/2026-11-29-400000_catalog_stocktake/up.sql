-- Stocktake (盘点) sessions: which copies a session counts (fixed when it
-- starts), which of them were scanned where, and the barcodes it could not
-- match to one of the school's copies.

CREATE TABLE stocktakes (
    id TEXT PRIMARY KEY NOT NULL,
    school_id TEXT NOT NULL,
    name TEXT NOT NULL,
    -- open, finalized, cancelled
    state TEXT NOT NULL,
    -- The school and its sorted shelf location ids while the session is
    -- open, NULL once closed: one open session per school and location set.
    open_key TEXT,
    started_by TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    closed_by TEXT,
    closed_at TIMESTAMP,
    -- Bumped by every recorded scan: a finalize preview names the version
    -- it saw, so a scan in between makes the confirm fail.
    version BIGINT NOT NULL DEFAULT 0,
    marked_missing INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX stocktakes_open_key ON stocktakes (open_key);
CREATE INDEX stocktakes_school ON stocktakes (school_id, id);

-- The shelf locations a session counts; none for the whole school.
CREATE TABLE stocktake_locations (
    stocktake_id TEXT NOT NULL REFERENCES stocktakes (id) ON DELETE CASCADE,
    location_id TEXT NOT NULL,
    PRIMARY KEY (stocktake_id, location_id)
);

-- The session's copies: every copy in scope when it started (in_scope),
-- plus copies of the school scanned that were not in scope.
CREATE TABLE stocktake_items (
    stocktake_id TEXT NOT NULL REFERENCES stocktakes (id) ON DELETE CASCADE,
    copy_id TEXT NOT NULL,
    barcode TEXT NOT NULL,
    in_scope BOOLEAN NOT NULL,
    scanned_at TIMESTAMP,
    scanned_by TEXT,
    scanned_location_id TEXT,
    -- Found at another shelf location than the copy's own.
    misplaced BOOLEAN NOT NULL DEFAULT FALSE,
    -- What the record said when it was scanned, if it disagreed:
    -- on_loan, missing, lost, withdrawn; empty when it agreed.
    mismatch TEXT NOT NULL DEFAULT '',
    marked_missing BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (stocktake_id, copy_id)
);
CREATE UNIQUE INDEX stocktake_items_barcode ON stocktake_items (stocktake_id, barcode);

-- Scanned barcodes that are not the school's copies.
CREATE TABLE stocktake_unknown_barcodes (
    stocktake_id TEXT NOT NULL REFERENCES stocktakes (id) ON DELETE CASCADE,
    barcode TEXT NOT NULL,
    -- not_in_catalog, other_school
    reason TEXT NOT NULL,
    copy_id TEXT,
    holding_school_id TEXT,
    scanned_at TIMESTAMP NOT NULL,
    scanned_by TEXT NOT NULL,
    scanned_location_id TEXT,
    PRIMARY KEY (stocktake_id, barcode)
);
