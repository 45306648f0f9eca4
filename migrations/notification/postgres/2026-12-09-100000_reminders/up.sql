-- Reminders: what notification keeps from circulation's events to decide
-- what is due (loan and hold schedules), the reminders it made (one per
-- subject and trigger), each message to each recipient over each channel
-- (deliveries), and the schools' settings, texts and opt-outs.

-- Open loans as circulation's events last described them.
CREATE TABLE loan_schedules (
    loan_id TEXT PRIMARY KEY NOT NULL,
    school_id TEXT NOT NULL,
    reader_id TEXT NOT NULL,
    title TEXT NOT NULL,
    copy_barcode TEXT NOT NULL,
    due_date TEXT NOT NULL,
    -- 'open' while on loan; 'closed' once returned, lost or anonymized.
    state TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX loan_schedules_open ON loan_schedules (school_id, due_date) WHERE state = 'open';

-- Copies waiting on the hold shelf, for the "hold expiring" reminder.
CREATE TABLE hold_schedules (
    hold_id TEXT PRIMARY KEY NOT NULL,
    school_id TEXT NOT NULL,
    reader_id TEXT NOT NULL,
    title TEXT NOT NULL,
    expires_on TEXT NOT NULL,
    state TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX hold_schedules_open ON hold_schedules (school_id, expires_on) WHERE state = 'open';

-- One reminder per (loan, hold or fee; trigger), enforced here.
CREATE TABLE reminders (
    id TEXT PRIMARY KEY NOT NULL,
    school_id TEXT NOT NULL,
    reader_id TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    trigger_name TEXT NOT NULL,
    title TEXT NOT NULL,
    -- Due day (loans), last pickup day (holds); NULL otherwise.
    due_date TEXT,
    -- Fee amount in minor units and currency (fees).
    amount_minor BIGINT,
    currency TEXT,
    -- 'planned' (recipients not yet known), 'queued' (deliveries made),
    -- 'skipped' (no longer applied when its turn came).
    state TEXT NOT NULL,
    -- The school day it was made for, "YYYY-MM-DD".
    day TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX reminders_subject_trigger_key ON reminders (subject_id, trigger_name);
CREATE INDEX reminders_planned ON reminders (state) WHERE state = 'planned';

-- One message to one recipient over one channel.
CREATE TABLE deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    reminder_id TEXT NOT NULL REFERENCES reminders (id),
    school_id TEXT NOT NULL,
    reader_id TEXT NOT NULL,
    reader_name TEXT NOT NULL,
    trigger_name TEXT NOT NULL,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    address TEXT NOT NULL,
    language TEXT NOT NULL,
    -- 'pending', 'sent', 'failed', 'dead', 'cancelled'.
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    last_error TEXT NOT NULL,
    provider_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    -- Deliveries sent together (a digest) share it.
    message_id TEXT NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_holder TEXT,
    lease_until TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state IN ('pending', 'failed');
CREATE INDEX deliveries_school ON deliveries (school_id, id);
CREATE INDEX deliveries_reminder ON deliveries (reminder_id);
CREATE INDEX deliveries_sent ON deliveries (school_id, channel, sent_at);

-- A school's reminder settings; absent while the defaults apply.
CREATE TABLE reminder_settings (
    school_id TEXT PRIMARY KEY NOT NULL,
    due_soon_days INTEGER NOT NULL,
    due_today BOOLEAN NOT NULL,
    -- Comma-separated ascending days, e.g. "1,7,14".
    overdue_days TEXT NOT NULL,
    hold_expiring_days INTEGER NOT NULL,
    open_days_only BOOLEAN NOT NULL,
    send_on_closed_days BOOLEAN NOT NULL,
    quiet_hours_start TEXT NOT NULL,
    quiet_hours_end TEXT NOT NULL,
    daily_cap_email INTEGER NOT NULL,
    daily_cap_webhook INTEGER NOT NULL,
    homeroom_teacher_overdue BOOLEAN NOT NULL,
    sender_name TEXT NOT NULL,
    from_address TEXT NOT NULL,
    reply_to TEXT NOT NULL,
    library_hours TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- A school's own texts; absent ones use the defaults.
CREATE TABLE reminder_templates (
    school_id TEXT NOT NULL,
    trigger_name TEXT NOT NULL,
    language TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (school_id, trigger_name, language)
);

-- Addresses that asked, through the link in a message, to receive no more.
CREATE TABLE opt_outs (
    channel TEXT NOT NULL,
    address TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (channel, address)
);

-- Reminders in the inbox carry their rendered heading and text.
ALTER TABLE notices ADD COLUMN subject TEXT;
ALTER TABLE notices ADD COLUMN body TEXT;
