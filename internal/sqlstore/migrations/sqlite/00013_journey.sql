-- +goose Up
-- The hosted journey (issue 12). An organization's journey settings: the
-- logo shown on its pages ('' for none) and the origins allowed to frame
-- them (CSP frame-ancestors, space-separated; '' for none at all).
ALTER TABLE organizations ADD COLUMN journey_logo_url TEXT NOT NULL DEFAULT '';
ALTER TABLE organizations ADD COLUMN journey_frame_ancestors TEXT NOT NULL DEFAULT '';

-- The applicant's consent, once per session: what they agreed to is the
-- session's own terms, shown on the consent page.
CREATE TABLE journey_consents (
    session_id   BIGINT PRIMARY KEY REFERENCES verification_sessions (id),
    consented_at BIGINT NOT NULL
);

-- Link tokens a renewal retired (their hashes), so that an old link can
-- say "a newer link was sent" rather than "not valid". Kept by a trigger:
-- every writer of link_hash records the old one, whichever use case it is.
CREATE TABLE retired_links (
    hash       BLOB PRIMARY KEY,
    session_id BIGINT NOT NULL REFERENCES verification_sessions (id),
    retired_at BIGINT NOT NULL
);

-- +goose StatementBegin
CREATE TRIGGER verification_sessions_retire_link AFTER UPDATE OF link_hash ON verification_sessions
WHEN OLD.link_hash <> NEW.link_hash BEGIN
    INSERT INTO retired_links (hash, session_id, retired_at) VALUES (OLD.link_hash, OLD.id, NEW.updated_at)
    ON CONFLICT (hash) DO NOTHING;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER verification_sessions_retire_link;
DROP TABLE retired_links;
DROP TABLE journey_consents;
ALTER TABLE organizations DROP COLUMN journey_frame_ancestors;
ALTER TABLE organizations DROP COLUMN journey_logo_url;
