-- +goose Up
-- An organization's redirect allow-list (the dashboard's settings): the
-- https origins a session's or verification's redirectUrl may point to,
-- space-separated; '' allows any http or https URL, as before.
ALTER TABLE organizations ADD COLUMN redirect_origins TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE organizations DROP COLUMN redirect_origins;
