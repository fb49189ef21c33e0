-- +goose Up
-- The verification session a connection carries out a step of, so that
-- the session's applicant is authorized by the one rule (its own
-- session's objects only).
ALTER TABLE connections ADD COLUMN session_id BIGINT;
UPDATE connections SET session_id = (SELECT session_id FROM verification_steps WHERE verification_steps.id = connections.step_id)
    WHERE step_id IS NOT NULL;

-- +goose Down
ALTER TABLE connections DROP COLUMN session_id;
