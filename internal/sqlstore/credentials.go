package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/verigate/verigate"
)

// CreateAccessToken inserts an onboarding access token.
func (db *DB) CreateAccessToken(ctx context.Context, t *verigate.AccessToken, ev verigate.AuditEvent) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO access_tokens (id, org_id, hash, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5)`, t.ID, t.OrgID, t.Hash, t.CreatedBy, ms(t.CreatedAt)); err != nil {
			return err
		}
		return insertAudit(ctx, tx, ev)
	})
}

const accessTokenColumns = `id, org_id, hash, created_by, created_at, last_used_at, revoked_at`

func scanAccessToken(row scanner) (*verigate.AccessToken, error) {
	var t verigate.AccessToken
	var created int64
	var used, revoked sql.NullInt64
	if err := row.Scan(&t.ID, &t.OrgID, &t.Hash, &t.CreatedBy, &created, &used, &revoked); err != nil {
		return nil, err
	}
	t.CreatedAt, t.LastUsedAt, t.RevokedAt = fromMS(created), fromNullMS(used), fromNullMS(revoked)
	return &t, nil
}

// GetAccessTokenByHash finds a token by the SHA-256 of its secret.
func (db *DB) GetAccessTokenByHash(ctx context.Context, hash []byte) (*verigate.AccessToken, error) {
	t, err := scanAccessToken(db.read.QueryRowContext(ctx, `SELECT `+accessTokenColumns+` FROM access_tokens WHERE hash = $1`, hash))
	return t, notFound(err, "Access token")
}

// GetAccessToken returns the token with id.
func (db *DB) GetAccessToken(ctx context.Context, id string) (*verigate.AccessToken, error) {
	t, err := scanAccessToken(db.read.QueryRowContext(ctx, `SELECT `+accessTokenColumns+` FROM access_tokens WHERE id = $1`, id))
	return t, notFound(err, "Access token")
}

// ListAccessTokens returns an organization's tokens, newest first.
func (db *DB) ListAccessTokens(ctx context.Context, orgID string) ([]*verigate.AccessToken, error) {
	return list(ctx, db.read, scanAccessToken, `SELECT `+accessTokenColumns+` FROM access_tokens WHERE org_id = $1 ORDER BY created_at DESC, id`, orgID)
}

// RevokeAccessToken marks a token revoked. Revoking twice is ECONFLICT.
func (db *DB) RevokeAccessToken(ctx context.Context, id string, ev verigate.AuditEvent) error {
	return db.revoke(ctx, "access_tokens", "Access token", id, ev)
}

// revoke sets revoked_at on a live row of table.
func (db *DB) revoke(ctx context.Context, table, what, id string, ev verigate.AuditEvent) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		var revoked sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT revoked_at FROM `+table+` WHERE id = $1`, id).Scan(&revoked)
		if err != nil {
			return notFound(err, what)
		}
		if revoked.Valid {
			return verigate.Errorf(verigate.ECONFLICT, "%s %s is already revoked.", what, id)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE `+table+` SET revoked_at = $1 WHERE id = $2`, ms(ev.At), id); err != nil {
			return err
		}
		return insertAudit(ctx, tx, ev)
	})
}

// TouchAccessToken records a use, at most once a minute.
func (db *DB) TouchAccessToken(ctx context.Context, id string, at time.Time) error {
	return db.touch(ctx, "access_tokens", id, at)
}

func (db *DB) touch(ctx context.Context, table, id string, at time.Time) error {
	_, err := db.write.ExecContext(ctx, `UPDATE `+table+` SET last_used_at = $1
		WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)`, ms(at), id, ms(at.Add(-time.Minute)))
	return err
}

// CreateAPIKey inserts an API key. An id already taken is ECONFLICT, so
// the caller can draw another.
func (db *DB) CreateAPIKey(ctx context.Context, k *verigate.APIKey, ev verigate.AuditEvent) error {
	scopes, _ := json.Marshal(k.Scopes)
	accounts, _ := json.Marshal(nonNil(k.Accounts))
	return db.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO api_keys (id, org_id, user_id, name, hash, scopes, accounts, mode,
			rl_ttl_ms, rl_limit, rl_block_ms, expires_at, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			k.ID, k.OrgID, k.UserID, k.Name, k.Hash, string(scopes), string(accounts), string(k.Mode),
			k.RateLimit.TTL.Milliseconds(), k.RateLimit.Limit, k.RateLimit.BlockDuration.Milliseconds(),
			msPtr(k.ExpiresAt), ms(k.CreatedAt))
		if isUnique(err) {
			return verigate.Errorf(verigate.ECONFLICT, "API key id %s is taken.", k.ID)
		}
		if err != nil {
			return err
		}
		return insertAudit(ctx, tx, ev)
	})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

const apiKeyColumns = `id, org_id, user_id, name, hash, scopes, accounts, mode, rl_ttl_ms, rl_limit, rl_block_ms,
	expires_at, created_at, last_used_at, revoked_at`

func scanAPIKey(row scanner) (*verigate.APIKey, error) {
	var k verigate.APIKey
	var scopes, accounts, mode string
	var ttl, block, created int64
	var expires, used, revoked sql.NullInt64
	if err := row.Scan(&k.ID, &k.OrgID, &k.UserID, &k.Name, &k.Hash, &scopes, &accounts, &mode, &ttl,
		&k.RateLimit.Limit, &block, &expires, &created, &used, &revoked); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(scopes), &k.Scopes); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(accounts), &k.Accounts); err != nil {
		return nil, err
	}
	k.Mode = verigate.Mode(mode)
	k.RateLimit.TTL, k.RateLimit.BlockDuration = time.Duration(ttl)*time.Millisecond, time.Duration(block)*time.Millisecond
	k.ExpiresAt, k.CreatedAt, k.LastUsedAt, k.RevokedAt = fromNullMS(expires), fromMS(created), fromNullMS(used), fromNullMS(revoked)
	return &k, nil
}

// GetAPIKey returns the key with id.
func (db *DB) GetAPIKey(ctx context.Context, id string) (*verigate.APIKey, error) {
	k, err := scanAPIKey(db.read.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE id = $1`, id))
	return k, notFound(err, "API key")
}

// ListAPIKeys returns an organization's keys, newest first.
func (db *DB) ListAPIKeys(ctx context.Context, orgID string) ([]*verigate.APIKey, error) {
	return list(ctx, db.read, scanAPIKey, `SELECT `+apiKeyColumns+` FROM api_keys WHERE org_id = $1 ORDER BY created_at DESC, id`, orgID)
}

// RevokeAPIKey marks a key revoked. Revoking twice is ECONFLICT.
func (db *DB) RevokeAPIKey(ctx context.Context, id string, ev verigate.AuditEvent) error {
	return db.revoke(ctx, "api_keys", "API key", id, ev)
}

// TouchAPIKey records a use, at most once a minute.
func (db *DB) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	return db.touch(ctx, "api_keys", id, at)
}
