-- Circulation rules: for which loans (school, reader category, item type;
-- '' means any) and on what terms. Every version of a rule is kept, so a
-- loan names the exact terms it was made under (rule_id, rule_version);
-- the version in force has in_force = TRUE. Money is in minor units (fen).
CREATE TABLE circulation_rules (
    id TEXT NOT NULL,
    version INTEGER NOT NULL,
    in_force BOOLEAN NOT NULL,
    school_id TEXT NOT NULL,
    reader_category TEXT NOT NULL,
    item_type TEXT NOT NULL,
    name TEXT NOT NULL,
    loanable BOOLEAN NOT NULL,
    loan_period_unit TEXT NOT NULL CHECK (loan_period_unit IN ('days', 'hours', 'end_of_term')),
    loan_period INTEGER NOT NULL,
    max_loans INTEGER,
    max_loans_of_item_type INTEGER,
    renewals INTEGER NOT NULL,
    renewal_period_days INTEGER NOT NULL,
    no_renewal_when_held BOOLEAN NOT NULL,
    grace_days INTEGER NOT NULL,
    fine_per_open_day BIGINT NOT NULL,
    fine_cap BIGINT NOT NULL,
    suspension_days_per_overdue_day INTEGER NOT NULL,
    lost_processing_fee BIGINT NOT NULL,
    hold_shelf_days INTEGER NOT NULL,
    max_holds INTEGER NOT NULL,
    block_when_overdue_days INTEGER,
    block_when_fees_over BIGINT,
    updated_by TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (id, version)
);
-- One rule in force per scope; check-out reads the few that can match.
CREATE UNIQUE INDEX circulation_rules_scope_current
    ON circulation_rules (school_id, reader_category, item_type) WHERE in_force;
-- The district default: any school, any reader, any item; it always matches
-- and cannot be retired. Fourteen days, one renewal, no fines, as most
-- school libraries lend; a district changes it with UpdateCirculationRule.
INSERT INTO circulation_rules VALUES (
    '00000000-0000-7000-8000-000000000001', 1, TRUE, '', '', '', '全区默认 District default',
    TRUE, 'days', 14, NULL, NULL, 1, 14, TRUE, 0, 0, 0, 0, 0, 7, 5, NULL, NULL,
    'lectern', '2026-11-30 00:00:00'
);
-- What a loan was made under: the copy's item type, the rule version, and a
-- librarian's override of blocks (reason, who, which blocks).
ALTER TABLE loans ADD COLUMN item_type TEXT NOT NULL DEFAULT '';
ALTER TABLE loans ADD COLUMN rule_id TEXT;
ALTER TABLE loans ADD COLUMN rule_version INTEGER;
ALTER TABLE loans ADD COLUMN override_reason TEXT;
ALTER TABLE loans ADD COLUMN overridden_by TEXT;
ALTER TABLE loans ADD COLUMN overridden_blocks TEXT;
