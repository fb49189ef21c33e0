-- +goose Up
-- Webhook delivery (issue 11): endpoints, one message per event per
-- endpoint, and the log of every attempt. Secrets and auth tokens are
-- stored sealed (seal purpose webhook-secret, the endpoint's id bound).
CREATE TABLE webhook_endpoints (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES organizations (id),
    mode             TEXT NOT NULL CHECK (mode IN ('live', 'test')),
    url              TEXT NOT NULL,
    description      TEXT NOT NULL,
    event_types      TEXT NOT NULL, -- a JSON array; [] is every type
    include_children BOOLEAN NOT NULL,
    include_pii      BOOLEAN NOT NULL,
    flavour          TEXT NOT NULL CHECK (flavour IN ('standard', 'reconbanker')),
    auth_scheme      TEXT NOT NULL CHECK (auth_scheme IN ('', 'Bearer', 'Api-Key')),
    auth_token       BLOB,
    secret           BLOB NOT NULL,
    previous_secret  BLOB,
    previous_until   BIGINT,
    rate_limit       INTEGER NOT NULL,
    session_id       BIGINT, -- a per-verification endpoint's session
    enabled          BOOLEAN NOT NULL,
    disabled_reason  TEXT NOT NULL,
    failing_since    BIGINT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX webhook_endpoints_org ON webhook_endpoints (org_id, id);
CREATE INDEX webhook_endpoints_session ON webhook_endpoints (session_id) WHERE session_id IS NOT NULL;

-- Ids are UUIDv7 made in event order: an endpoint's messages go out in id
-- order. next_attempt_at is when a worker should act on a message next:
-- its next try while pending, its lease's end while sending (so a lapsed
-- claim is due again).
CREATE TABLE webhook_messages (
    id              TEXT PRIMARY KEY,
    endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id        BIGINT REFERENCES events (id) ON DELETE CASCADE, -- NULL for a test message
    event_type      TEXT NOT NULL,
    body            BLOB NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'delivered', 'failed', 'aborted')),
    attempts        INTEGER NOT NULL,
    failures        INTEGER NOT NULL,
    next_trigger    TEXT NOT NULL CHECK (next_trigger IN ('scheduled', 'redeliver', 'replay', 'test')),
    next_attempt_at BIGINT,
    lease_until     BIGINT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    delivered_at    BIGINT
);
CREATE INDEX webhook_messages_endpoint ON webhook_messages (endpoint_id, id);
-- Each endpoint's queue: its head is the lowest id here.
CREATE INDEX webhook_messages_queue ON webhook_messages (endpoint_id, id) WHERE status IN ('pending', 'sending');
CREATE INDEX webhook_messages_due ON webhook_messages (next_attempt_at) WHERE status IN ('pending', 'sending');
CREATE INDEX webhook_messages_event ON webhook_messages (event_id);
CREATE INDEX webhook_messages_created ON webhook_messages (created_at);

CREATE TABLE webhook_attempts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id      TEXT NOT NULL REFERENCES webhook_messages (id) ON DELETE CASCADE,
    endpoint_id     TEXT NOT NULL,
    n               INTEGER NOT NULL,
    at              BIGINT NOT NULL,
    triggered_by    TEXT NOT NULL CHECK (triggered_by IN ('scheduled', 'redeliver', 'replay', 'test')),
    status_code     INTEGER NOT NULL,
    latency_ms      BIGINT NOT NULL,
    response        TEXT NOT NULL,
    error           TEXT NOT NULL,
    next_attempt_at BIGINT
);
CREATE INDEX webhook_attempts_message ON webhook_attempts (message_id, id);

-- The dispatcher reads events by this flag, not by an id cursor, so an
-- event committed after a higher id was read is never skipped. Events
-- written before delivery existed are not delivered.
ALTER TABLE events ADD COLUMN dispatched_at BIGINT;
UPDATE events SET dispatched_at = created_at;
CREATE INDEX events_undispatched ON events (id) WHERE dispatched_at IS NULL;
CREATE INDEX events_created ON events (created_at);

-- +goose Down
DROP INDEX events_created;
DROP INDEX events_undispatched;
ALTER TABLE events DROP COLUMN dispatched_at;
DROP TABLE webhook_attempts;
DROP TABLE webhook_messages;
DROP TABLE webhook_endpoints;
