-- Holds: a reader's request for a title (any copy) or for one copy, picked
-- up at a school. Waiting holds form a queue per title in the order they
-- were placed (ids are UUIDv7). When a copy is taken for a hold it is
-- `in_transit` to the pickup school or `ready` on its hold shelf until
-- `expires_at`; a hold ends `fulfilled` (lent), `cancelled` or `expired`.
CREATE TABLE holds (
    id TEXT PRIMARY KEY NOT NULL,
    reader_id TEXT,
    reader_category TEXT NOT NULL,
    title_id TEXT NOT NULL,
    title TEXT NOT NULL,
    -- The copy asked for (copy-level holds only).
    wanted_copy_id TEXT,
    -- The copy taken for the hold, once there is one.
    copy_id TEXT,
    copy_barcode TEXT,
    copy_item_type TEXT,
    pickup_school_id TEXT NOT NULL,
    status TEXT NOT NULL
        CHECK (status IN ('waiting', 'in_transit', 'ready', 'fulfilled', 'cancelled', 'expired')),
    placed_by TEXT NOT NULL,
    placed_at TIMESTAMP NOT NULL,
    ready_at TIMESTAMP,
    expires_at TIMESTAMP,
    closed_at TIMESTAMP,
    closed_by TEXT
);
-- A title's queue, and a reader's holds.
CREATE INDEX holds_title_open ON holds (title_id, id) WHERE status IN ('waiting', 'in_transit', 'ready');
CREATE INDEX holds_reader ON holds (reader_id, id);
-- A copy is taken for at most one hold at a time.
CREATE UNIQUE INDEX holds_copy_taken ON holds (copy_id) WHERE status IN ('in_transit', 'ready');
-- The expiry job reads the hold shelves in expiry order.
CREATE INDEX holds_ready_expiry ON holds (expires_at) WHERE status = 'ready';
