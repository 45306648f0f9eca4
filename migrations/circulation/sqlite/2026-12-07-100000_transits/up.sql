-- Copies travelling between schools: home after a return at another
-- school's desk, kiosk or book drop, or to the school where a reader waits
-- for them (a hold). A transit is open until the copy is scanned at its
-- destination; a desk lists what travels to and from its school.
CREATE TABLE transits (
    id TEXT PRIMARY KEY NOT NULL,
    copy_id TEXT NOT NULL,
    copy_barcode TEXT NOT NULL,
    title TEXT NOT NULL,
    from_school_id TEXT NOT NULL,
    to_school_id TEXT NOT NULL,
    reason TEXT NOT NULL CHECK (reason IN ('home', 'hold')),
    hold_id TEXT,
    started_at TIMESTAMP NOT NULL,
    started_by TEXT NOT NULL,
    received_at TIMESTAMP,
    received_by TEXT
);
-- A copy is on one journey at a time.
CREATE UNIQUE INDEX transits_open_copy ON transits (copy_id) WHERE received_at IS NULL;
CREATE INDEX transits_to_school ON transits (to_school_id, started_at);
CREATE INDEX transits_from_school ON transits (from_school_id, started_at);

-- Copies already travelling for a hold when transits were introduced: the
-- school they left was not recorded.
INSERT INTO transits (id, copy_id, copy_barcode, title, from_school_id, to_school_id, reason, hold_id,
                      started_at, started_by)
SELECT id, copy_id, copy_barcode, title, '', pickup_school_id, 'hold', id, placed_at, 'circulation'
FROM holds
WHERE status = 'in_transit' AND copy_id IS NOT NULL AND copy_barcode IS NOT NULL;
