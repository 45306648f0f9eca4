ALTER TABLE loans DROP COLUMN overridden_blocks;
ALTER TABLE loans DROP COLUMN overridden_by;
ALTER TABLE loans DROP COLUMN override_reason;
ALTER TABLE loans DROP COLUMN rule_version;
ALTER TABLE loans DROP COLUMN rule_id;
ALTER TABLE loans DROP COLUMN item_type;
DROP TABLE circulation_rules;
