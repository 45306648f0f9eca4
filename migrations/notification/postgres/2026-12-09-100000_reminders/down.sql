ALTER TABLE notices DROP COLUMN body;
ALTER TABLE notices DROP COLUMN subject;
DROP TABLE opt_outs;
DROP TABLE reminder_templates;
DROP TABLE reminder_settings;
DROP TABLE deliveries;
DROP TABLE hold_schedules;
DROP TABLE reminders;
DROP TABLE loan_schedules;
