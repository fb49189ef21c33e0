-- +goose Up
-- When a verification's link was first opened (an applicant token issued
-- for it): the first stage of the dashboard's journey funnel. NULL until
-- then, and for sessions opened before this column existed.
ALTER TABLE verification_sessions ADD COLUMN opened_at BIGINT;

-- +goose Down
ALTER TABLE verification_sessions DROP COLUMN opened_at;
