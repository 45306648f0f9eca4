-- Fees a reader owes the library: overdue fines charged at check-in, and
-- lost, damaged and processing fees charged at the desk. Amounts are minor
-- units (fen). `outstanding` is what is left after the payments and
-- waivers in `fee_entries`, kept on the fee so balances and blocks read one
-- row per fee. The reader's class and grade are copied from the loan, so a
-- class's fees can be waived together at the end of the year. `reader_id`
-- is cleared when the reader is erased (which needs no open fees).
CREATE TABLE fees (
    id TEXT PRIMARY KEY NOT NULL,
    reader_id TEXT,
    school_id TEXT NOT NULL,
    loan_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('overdue', 'lost', 'damaged', 'processing')),
    amount BIGINT NOT NULL CHECK (amount > 0),
    outstanding BIGINT NOT NULL CHECK (outstanding >= 0 AND outstanding <= amount),
    copy_barcode TEXT NOT NULL,
    title TEXT NOT NULL,
    reader_class_id TEXT,
    reader_grade INTEGER NOT NULL,
    note TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
-- A reader's fees, newest first.
CREATE INDEX fees_reader ON fees (reader_id, id);
-- A school's open fees, by class, for bulk waivers.
CREATE INDEX fees_school_open ON fees (school_id, reader_class_id) WHERE outstanding > 0;
-- Payments, waivers and refunds (of a lost copy's price when it is found):
-- the ledger each fee's `outstanding` sums up.
CREATE TABLE fee_entries (
    id TEXT PRIMARY KEY NOT NULL,
    fee_id TEXT NOT NULL REFERENCES fees (id),
    kind TEXT NOT NULL CHECK (kind IN ('payment', 'waiver', 'refund')),
    amount BIGINT NOT NULL CHECK (amount > 0),
    reason TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX fee_entries_fee ON fee_entries (fee_id, id);
-- The last day a reader may not borrow after returning this loan late,
-- when its rule suspends ('YYYY-MM-DD' in the school's time zone).
ALTER TABLE loans ADD COLUMN suspended_until TEXT;
