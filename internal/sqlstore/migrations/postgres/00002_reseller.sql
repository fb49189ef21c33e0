-- +goose Up
-- Confirm's SSO tokens: a 30-minute sliding window (expires_at) under an
-- absolute cap; last_used_at throttles the sliding writes.
CREATE TABLE sso_tokens (
    id                  TEXT PRIMARY KEY,
    hash                BYTEA NOT NULL UNIQUE,
    user_id             TEXT NOT NULL REFERENCES users (id),
    org_id              TEXT NOT NULL REFERENCES organizations (id),
    created_at          BIGINT NOT NULL,
    last_used_at        BIGINT NOT NULL,
    expires_at          BIGINT NOT NULL,
    absolute_expires_at BIGINT NOT NULL,
    revoked_at          BIGINT
);
CREATE INDEX sso_tokens_user ON sso_tokens (user_id);

-- Single-use dashboard login tokens, bound to an institution and operator.
CREATE TABLE login_tokens (
    id           TEXT PRIMARY KEY,
    hash         BYTEA NOT NULL UNIQUE,
    org_id       TEXT NOT NULL REFERENCES organizations (id),
    issued_by    TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT
);

-- Members of an institution, as call-centre operators know them.
CREATE TABLE members (
    institution_id     TEXT NOT NULL REFERENCES organizations (id),
    person_id          TEXT NOT NULL,
    name               TEXT NOT NULL,
    voice_enrolled     BOOLEAN NOT NULL,
    enrolled_voice_id  TEXT NOT NULL,
    enrolled_at        BIGINT,
    verification_count INTEGER NOT NULL,
    last_verified_at   BIGINT,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    PRIMARY KEY (institution_id, person_id)
);

CREATE TABLE phone_calls (
    voice_id         TEXT PRIMARY KEY,
    institution_id   TEXT NOT NULL REFERENCES organizations (id),
    provider         TEXT NOT NULL,
    provider_call_id TEXT NOT NULL,
    phone_number     TEXT NOT NULL,
    caller_name      TEXT NOT NULL,
    received_at      BIGINT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('queued', 'assigned', 'enrolled', 'rejected')),
    person_id        TEXT NOT NULL,
    risk_score       INTEGER NOT NULL,
    risk_level       TEXT NOT NULL,
    verified         BOOLEAN NOT NULL,
    validation_type  TEXT NOT NULL,
    decided_by       TEXT NOT NULL,
    decided_at       BIGINT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    UNIQUE (institution_id, provider, provider_call_id)
);
CREATE INDEX phone_calls_queue ON phone_calls (institution_id, status, received_at);
CREATE INDEX phone_calls_phone ON phone_calls (institution_id, phone_number);

CREATE TABLE call_events (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    voice_id TEXT NOT NULL REFERENCES phone_calls (voice_id),
    at       BIGINT NOT NULL,
    type     TEXT NOT NULL,
    detail   TEXT NOT NULL
);
CREATE INDEX call_events_voice ON call_events (voice_id, id);

CREATE TABLE member_verifications (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    institution_id  TEXT NOT NULL,
    person_id       TEXT NOT NULL,
    voice_id        TEXT NOT NULL REFERENCES phone_calls (voice_id),
    validation_type TEXT NOT NULL,
    requested_by    TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    FOREIGN KEY (institution_id, person_id) REFERENCES members (institution_id, person_id)
);

-- +goose Down
DROP TABLE member_verifications;
DROP TABLE call_events;
DROP TABLE phone_calls;
DROP TABLE members;
DROP TABLE login_tokens;
DROP TABLE sso_tokens;
