-- +goose Up
-- The Reclaim provider hashes a source accepts (a proof's
-- context.providerHash must be one of them).
ALTER TABLE data_sources ADD COLUMN provider_hashes TEXT NOT NULL DEFAULT '[]';

-- Case-folded search text, written from Go (full Unicode folding on both
-- engines; SQLite's LOWER folds ASCII only).
ALTER TABLE phone_calls ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
UPDATE phone_calls SET search_text = LOWER(phone_number || ' ' || caller_name);
ALTER TABLE members ADD COLUMN name_folded TEXT NOT NULL DEFAULT '';
UPDATE members SET name_folded = LOWER(name);

CREATE INDEX verification_sessions_list ON verification_sessions (mode, org_id, created_at);
CREATE INDEX csrf_tokens_session ON csrf_tokens (session_id);

-- +goose Down
DROP INDEX csrf_tokens_session;
DROP INDEX verification_sessions_list;
ALTER TABLE members DROP COLUMN name_folded;
ALTER TABLE phone_calls DROP COLUMN search_text;
ALTER TABLE data_sources DROP COLUMN provider_hashes;
