-- +goose Up
-- The dashboard (issue 13): a person's signed-in session, by the SHA-256
-- of the cookie's secret. org_id is the organization it acts in (the
-- switcher changes it) and mode the data it shows (live or test);
-- requested_by names the person on call records.
CREATE TABLE dashboard_sessions (
    id                  TEXT PRIMARY KEY,
    hash                BYTEA NOT NULL UNIQUE,
    user_id             TEXT NOT NULL REFERENCES users (id),
    org_id              TEXT NOT NULL REFERENCES organizations (id),
    requested_by        TEXT NOT NULL,
    via                 TEXT NOT NULL,
    mode                TEXT NOT NULL DEFAULT 'live',
    created_at          BIGINT NOT NULL,
    last_used_at        BIGINT NOT NULL,
    expires_at          BIGINT NOT NULL,
    absolute_expires_at BIGINT NOT NULL,
    revoked_at          BIGINT
);
CREATE INDEX dashboard_sessions_user ON dashboard_sessions (user_id);
CREATE INDEX dashboard_sessions_expires ON dashboard_sessions (absolute_expires_at);

-- +goose Down
DROP TABLE dashboard_sessions;
