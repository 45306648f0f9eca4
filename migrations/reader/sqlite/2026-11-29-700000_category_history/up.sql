-- Each reader category's loan history rule: keep, anonymize a returned
-- loan `history_days` days after the return, or never keep. Circulation
-- records the rule on every loan at check-out.
ALTER TABLE reader_categories ADD COLUMN history_retention TEXT NOT NULL DEFAULT 'keep'
    CHECK (history_retention IN ('keep', 'anonymize_after_days', 'never_keep'));
ALTER TABLE reader_categories ADD COLUMN history_days INTEGER;
