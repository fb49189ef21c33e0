-- +goose Up
-- The credential-cache generation: one counter, bumped in the transaction
-- of every change that can narrow or end a verified credential (a
-- revocation; a user's, role's or organization's change; a new
-- organization, which widens its ancestors' reach). Every server polls it
-- and drops its cached credentials when it moves. Touches and slides
-- (last_used_at, expires_at) do not bump it.
CREATE TABLE cache_generation (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    generation BIGINT NOT NULL
);
INSERT INTO cache_generation (id, generation) VALUES (1, 0);

-- +goose StatementBegin
CREATE TRIGGER organizations_insert_bump AFTER INSERT ON organizations BEGIN
    UPDATE cache_generation SET generation = generation + 1 WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER organizations_update_bump AFTER UPDATE ON organizations BEGIN
    UPDATE cache_generation SET generation = generation + 1 WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER users_update_bump AFTER UPDATE ON users BEGIN
    UPDATE cache_generation SET generation = generation + 1 WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER user_roles_insert_bump AFTER INSERT ON user_roles BEGIN
    UPDATE cache_generation SET generation = generation + 1 WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER user_roles_delete_bump AFTER DELETE ON user_roles BEGIN
    UPDATE cache_generation SET generation = generation + 1 WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER roles_update_bump AFTER UPDATE ON roles BEGIN
    UPDATE cache_generation SET generation = generation + 1 WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER roles_delete_bump AFTER DELETE ON roles BEGIN
    UPDATE cache_generation SET generation = generation + 1 WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER api_keys_revoke_bump AFTER UPDATE OF revoked_at ON api_keys BEGIN
    UPDATE cache_generation SET generation = generation + 1 WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER sso_tokens_revoke_bump AFTER UPDATE OF revoked_at ON sso_tokens BEGIN
    UPDATE cache_generation SET generation = generation + 1 WHERE id = 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER api_tokens_revoke_bump AFTER UPDATE OF revoked_at ON api_tokens BEGIN
    UPDATE cache_generation SET generation = generation + 1 WHERE id = 1;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER api_tokens_revoke_bump;
DROP TRIGGER sso_tokens_revoke_bump;
DROP TRIGGER api_keys_revoke_bump;
DROP TRIGGER roles_delete_bump;
DROP TRIGGER roles_update_bump;
DROP TRIGGER user_roles_delete_bump;
DROP TRIGGER user_roles_insert_bump;
DROP TRIGGER users_update_bump;
DROP TRIGGER organizations_update_bump;
DROP TRIGGER organizations_insert_bump;
DROP TABLE cache_generation;
