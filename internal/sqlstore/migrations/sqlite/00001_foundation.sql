-- +goose Up
-- Times are Unix milliseconds (BIGINT) on both engines, so one set of SQL
-- compares and orders them the same way everywhere.
CREATE TABLE organizations (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('platform', 'reseller', 'institution')),
    key        TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    parent_id  TEXT REFERENCES organizations (id),
    core       TEXT NOT NULL DEFAULT '',
    status     TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX organizations_parent ON organizations (parent_id);

CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES organizations (id),
    email           TEXT NOT NULL UNIQUE,
    username        TEXT NOT NULL,
    password_hash   TEXT NOT NULL,
    service_account BOOLEAN NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX users_org ON users (org_id);

CREATE TABLE user_roles (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role    TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
);

-- Keyed by the normalized email whether or not a user has it, so an
-- unknown email and a known one behave the same, lockout included.
CREATE TABLE signin_failures (
    email        TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL,
    locked_until BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);

CREATE TABLE access_tokens (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organizations (id),
    hash         BLOB NOT NULL UNIQUE,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX access_tokens_org ON access_tokens (org_id);

CREATE TABLE api_keys (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations (id),
    user_id       TEXT NOT NULL REFERENCES users (id),
    name          TEXT NOT NULL,
    hash          BLOB NOT NULL,
    scopes        TEXT NOT NULL,
    accounts      TEXT NOT NULL,
    mode          TEXT NOT NULL CHECK (mode IN ('live', 'test')),
    rl_ttl_ms     BIGINT NOT NULL,
    rl_limit      INTEGER NOT NULL,
    rl_block_ms   BIGINT NOT NULL,
    expires_at    BIGINT,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT,
    revoked_at    BIGINT
);
CREATE INDEX api_keys_org ON api_keys (org_id);
CREATE INDEX api_keys_user ON api_keys (user_id);

CREATE TABLE audit_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    at           BIGINT NOT NULL,
    actor_kind   TEXT NOT NULL,
    actor_id     TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    action       TEXT NOT NULL,
    target_kind  TEXT NOT NULL,
    target_id    TEXT NOT NULL,
    org_id       TEXT NOT NULL,
    request_id   TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    details      TEXT NOT NULL
);
CREATE INDEX audit_events_org ON audit_events (org_id, id);
CREATE INDEX audit_events_target ON audit_events (target_id);

-- +goose Down
DROP TABLE audit_events;
DROP TABLE api_keys;
DROP TABLE access_tokens;
DROP TABLE signin_failures;
DROP TABLE user_roles;
DROP TABLE users;
DROP TABLE organizations;
