-- +goose Up
-- An organization's verification secret (issue 11), one per mode: it
-- signs the deliveries to a verification's own webhookUrl and the
-- redirect back to the partner. Stored sealed (seal purpose
-- webhook-secret, bound to the organization and mode); the one a
-- rotation replaced signs too until previous_until.
CREATE TABLE verification_secrets (
    org_id          TEXT NOT NULL REFERENCES organizations (id),
    mode            TEXT NOT NULL CHECK (mode IN ('live', 'test')),
    secret          BYTEA NOT NULL,
    previous_secret BYTEA,
    previous_until  BIGINT,
    created_at      BIGINT NOT NULL,
    rotated_at      BIGINT NOT NULL,
    PRIMARY KEY (org_id, mode)
);

-- +goose Down
DROP TABLE verification_secrets;
