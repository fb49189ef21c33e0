-- +goose Up
-- Konfir-style verification requests (issue 12): a session gains its
-- creator's external reference, the state echoed back on the redirect,
-- the applicant's phone and date of birth (YYYY-MM-DD text, '' when not
-- given), the reason it was cancelled, and its current link token sealed
-- to the link's hash (seal purpose link-token) so that the link and its
-- QR code can be shown again. Every default keeps older rows valid: their
-- link stays unrecoverable until rotated.
ALTER TABLE verification_sessions ADD COLUMN external_reference_id TEXT NOT NULL DEFAULT '';
ALTER TABLE verification_sessions ADD COLUMN state TEXT NOT NULL DEFAULT '';
ALTER TABLE verification_sessions ADD COLUMN applicant_phone TEXT NOT NULL DEFAULT '';
ALTER TABLE verification_sessions ADD COLUMN applicant_dob TEXT NOT NULL DEFAULT '';
ALTER TABLE verification_sessions ADD COLUMN cancel_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE verification_sessions ADD COLUMN link_sealed BLOB NOT NULL DEFAULT X'';
-- Listing by external reference, most recent first.
CREATE INDEX verification_sessions_external_ref ON verification_sessions (org_id, mode, external_reference_id, id)
    WHERE external_reference_id <> '';
-- A session's timeline reads its events.
CREATE INDEX events_subject ON events (org_id, subject, id);

-- +goose Down
DROP INDEX events_subject;
DROP INDEX verification_sessions_external_ref;
ALTER TABLE verification_sessions DROP COLUMN link_sealed;
ALTER TABLE verification_sessions DROP COLUMN cancel_reason;
ALTER TABLE verification_sessions DROP COLUMN applicant_dob;
ALTER TABLE verification_sessions DROP COLUMN applicant_phone;
ALTER TABLE verification_sessions DROP COLUMN state;
ALTER TABLE verification_sessions DROP COLUMN external_reference_id;
