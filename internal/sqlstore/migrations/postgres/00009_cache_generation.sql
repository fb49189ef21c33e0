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
CREATE FUNCTION bump_cache_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE cache_generation SET generation = generation + 1 WHERE id = 1;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- Deferred to commit, so the counter's row lock is always a
-- transaction's last: two changes cannot deadlock on it.
CREATE CONSTRAINT TRIGGER organizations_bump AFTER INSERT OR UPDATE ON organizations
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_cache_generation();
CREATE CONSTRAINT TRIGGER users_bump AFTER UPDATE ON users
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_cache_generation();
CREATE CONSTRAINT TRIGGER user_roles_bump AFTER INSERT OR DELETE ON user_roles
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_cache_generation();
CREATE CONSTRAINT TRIGGER roles_bump AFTER UPDATE OR DELETE ON roles
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_cache_generation();
CREATE CONSTRAINT TRIGGER api_keys_revoke_bump AFTER UPDATE OF revoked_at ON api_keys
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_cache_generation();
CREATE CONSTRAINT TRIGGER sso_tokens_revoke_bump AFTER UPDATE OF revoked_at ON sso_tokens
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_cache_generation();
CREATE CONSTRAINT TRIGGER api_tokens_revoke_bump AFTER UPDATE OF revoked_at ON api_tokens
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_cache_generation();

-- +goose Down
DROP TRIGGER api_tokens_revoke_bump ON api_tokens;
DROP TRIGGER sso_tokens_revoke_bump ON sso_tokens;
DROP TRIGGER api_keys_revoke_bump ON api_keys;
DROP TRIGGER roles_bump ON roles;
DROP TRIGGER user_roles_bump ON user_roles;
DROP TRIGGER users_bump ON users;
DROP TRIGGER organizations_bump ON organizations;
DROP FUNCTION bump_cache_generation();
DROP TABLE cache_generation;
