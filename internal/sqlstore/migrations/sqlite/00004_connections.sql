-- +goose Up
-- Connections (Reconbanker's accounts): logins at connector sources, run by
-- a worker that claims them with a lease, so a crash never leaves one stuck.
CREATE TABLE connections (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES organizations (id),
    user_id         TEXT NOT NULL,
    api_key_id      TEXT NOT NULL,
    mode            TEXT NOT NULL CHECK (mode IN ('live', 'test')),
    source_id       INTEGER NOT NULL REFERENCES data_sources (id),
    label           TEXT NOT NULL,
    credentials     BLOB NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('queued', 'running', 'awaiting_code', 'connected', 'failed')),
    connector_state TEXT NOT NULL,
    next_run_at     BIGINT,
    lease_until     BIGINT,
    failure_reason  TEXT NOT NULL,
    data            TEXT NOT NULL,
    step_id         INTEGER REFERENCES verification_steps (id),
    version         INTEGER NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    connected_at    BIGINT
);
CREATE INDEX connections_org ON connections (org_id, created_at);
CREATE INDEX connections_due ON connections (next_run_at);

CREATE TABLE assistance_requests (
    id            TEXT PRIMARY KEY,
    connection_id TEXT NOT NULL REFERENCES connections (id),
    type          TEXT NOT NULL,
    length        INTEGER NOT NULL,
    code_type     TEXT NOT NULL,
    purpose       TEXT NOT NULL,
    attempts      INTEGER NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('pending', 'fulfilled', 'cancelled', 'expired')),
    code          BLOB,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    resolved_at   BIGINT
);
-- At most one pending request per connection.
CREATE UNIQUE INDEX assistance_one_pending ON assistance_requests (connection_id) WHERE status = 'pending';
CREATE INDEX assistance_expiry ON assistance_requests (status, expires_at);

CREATE TABLE connection_events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    connection_id TEXT NOT NULL REFERENCES connections (id),
    type          TEXT NOT NULL,
    data          TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX connection_events_conn ON connection_events (connection_id, id);

-- +goose Down
DROP TABLE connection_events;
DROP TABLE assistance_requests;
DROP TABLE connections;
