-- +goose Up
-- ExactPay-style tokens: a user's token (idles out after 30 minutes) and
-- application tokens minted from it (or from another application token),
-- each narrowed to a subset of its creator's permissions and accounts.
CREATE TABLE api_tokens (
    id                  TEXT PRIMARY KEY,
    hash                BYTEA NOT NULL UNIQUE,
    type                TEXT NOT NULL CHECK (type IN ('user', 'application')),
    user_id             TEXT NOT NULL REFERENCES users (id),
    org_id              TEXT NOT NULL REFERENCES organizations (id),
    application         TEXT NOT NULL,
    label               TEXT NOT NULL,
    mode                TEXT NOT NULL CHECK (mode IN ('live', 'test')),
    permissions         TEXT,          -- NULL: all of the creator's
    accounts            TEXT,          -- NULL: all of the creator's
    parent_id           TEXT REFERENCES api_tokens (id),
    created_at          BIGINT NOT NULL,
    last_used_at        BIGINT NOT NULL,
    expires_at          BIGINT,
    absolute_expires_at BIGINT,
    revoked_at          BIGINT
);
CREATE INDEX api_tokens_org ON api_tokens (org_id, application, created_at);
CREATE INDEX api_tokens_user ON api_tokens (user_id);
CREATE INDEX api_tokens_parent ON api_tokens (parent_id);

-- Custom roles: named permission sets of one organization. Built-in roles
-- live in code.
CREATE TABLE roles (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations (id),
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    permissions TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (org_id, name)
);

ALTER TABLE users ADD COLUMN deleted_at BIGINT;

-- +goose Down
ALTER TABLE users DROP COLUMN deleted_at;
DROP TABLE roles;
DROP TABLE api_tokens;
