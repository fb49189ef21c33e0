-- +goose Up
-- Numeric organization ids, for the surfaces that show numbers (the
-- Partner API's teamId).
CREATE TABLE org_numbers (
    number INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id TEXT NOT NULL UNIQUE REFERENCES organizations (id)
);
INSERT INTO org_numbers (org_id) SELECT id FROM organizations ORDER BY created_at, id;

-- always | on_failure | never: when a finished session goes to review.
ALTER TABLE organizations ADD COLUMN review_policy TEXT NOT NULL DEFAULT 'on_failure';

CREATE TABLE verification_types (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL
);

CREATE TABLE data_sources (
    id                   INTEGER PRIMARY KEY, -- built-ins below 10000, imports from 10000
    source_name          TEXT NOT NULL UNIQUE,
    name                 TEXT NOT NULL,
    description          TEXT NOT NULL,
    logo_url             TEXT NOT NULL,
    category             TEXT NOT NULL,
    verification_type_id INTEGER NOT NULL REFERENCES verification_types (id),
    kind                 TEXT NOT NULL CHECK (kind IN ('reclaim', 'connector')),
    provider_id          TEXT NOT NULL,
    login_flow           TEXT NOT NULL,
    test_only            BOOLEAN NOT NULL,
    builtin              BOOLEAN NOT NULL,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);

-- Per-organization overrides of the catalog: a row disables (or enables) a
-- source for that organization and everything under it.
CREATE TABLE source_settings (
    org_id    TEXT NOT NULL REFERENCES organizations (id),
    source_id INTEGER NOT NULL REFERENCES data_sources (id),
    enabled   BOOLEAN NOT NULL,
    PRIMARY KEY (org_id, source_id)
);

CREATE TABLE verification_sessions (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id               TEXT NOT NULL REFERENCES organizations (id),
    mode                 TEXT NOT NULL CHECK (mode IN ('live', 'test')),
    status               TEXT NOT NULL,
    version              INTEGER NOT NULL,
    expiry_date          BIGINT NOT NULL,
    metadata             TEXT NOT NULL,
    applicant_id         TEXT NOT NULL,
    applicant_data       TEXT NOT NULL,
    instructions         TEXT NOT NULL,
    applicant_first_name TEXT NOT NULL,
    applicant_last_name  TEXT NOT NULL,
    applicant_email      TEXT NOT NULL,
    allowed_sources      TEXT NOT NULL,
    selected_platform    INTEGER,
    verification_type_id INTEGER,
    redirect_url         TEXT NOT NULL,
    link_hash            BLOB NOT NULL UNIQUE,
    created_by           TEXT NOT NULL,
    reviewer_id          TEXT NOT NULL,
    review_reason        TEXT NOT NULL,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    completed_at         BIGINT
);
CREATE INDEX verification_sessions_org ON verification_sessions (org_id, status, created_at);
CREATE INDEX verification_sessions_expiry ON verification_sessions (status, expiry_date);

CREATE TABLE verification_steps (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id     INTEGER NOT NULL REFERENCES verification_sessions (id),
    data_source_id INTEGER NOT NULL REFERENCES data_sources (id),
    type           TEXT NOT NULL,
    status         TEXT NOT NULL,
    nonce          TEXT NOT NULL,
    metadata       TEXT NOT NULL,
    results        TEXT NOT NULL,
    failure_reason TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX verification_steps_session ON verification_steps (session_id, id);

-- Every accepted proof, so that one proof is never accepted twice.
CREATE TABLE proofs (
    identifier TEXT PRIMARY KEY,
    step_id    INTEGER NOT NULL REFERENCES verification_steps (id),
    signer     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE csrf_tokens (
    hash       BLOB PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES verification_sessions (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX csrf_tokens_expiry ON csrf_tokens (expires_at);

-- Stripe-style idempotency for POST /partner/session, per API key.
CREATE TABLE idempotency_keys (
    scope        TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash BLOB NOT NULL,
    status       INTEGER NOT NULL, -- 0 while the first request runs
    body         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- The outbox: events written in the transaction of the change they
-- announce; webhook delivery reads them from here.
CREATE TABLE events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id     TEXT NOT NULL,
    mode       TEXT NOT NULL,
    type       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX events_org ON events (org_id, id);

-- +goose Down
DROP TABLE events;
DROP TABLE idempotency_keys;
DROP TABLE csrf_tokens;
DROP TABLE proofs;
DROP TABLE verification_steps;
DROP TABLE verification_sessions;
DROP TABLE source_settings;
DROP TABLE data_sources;
DROP TABLE verification_types;
ALTER TABLE organizations DROP COLUMN review_policy;
DROP TABLE org_numbers;
