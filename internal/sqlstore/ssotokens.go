package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/verigate/verigate"
)

// CreateSSOToken inserts an SSO token.
func (db *DB) CreateSSOToken(ctx context.Context, t *verigate.SSOToken, ev verigate.AuditEvent) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO sso_tokens (id, hash, user_id, org_id, created_at, last_used_at, expires_at, absolute_expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, t.ID, t.Hash, t.UserID, t.OrgID, ms(t.CreatedAt), ms(t.LastUsedAt),
			ms(t.ExpiresAt), ms(t.AbsoluteExpiresAt)); err != nil {
			return err
		}
		return insertAudit(ctx, tx, ev)
	})
}

// GetSSOTokenByHash finds an SSO token by the SHA-256 of its secret.
func (db *DB) GetSSOTokenByHash(ctx context.Context, hash []byte) (*verigate.SSOToken, error) {
	var t verigate.SSOToken
	var created, used, expires, abs int64
	var revoked sql.NullInt64
	err := db.read.QueryRowContext(ctx, `SELECT id, hash, user_id, org_id, created_at, last_used_at, expires_at,
		absolute_expires_at, revoked_at FROM sso_tokens WHERE hash = $1`, hash).
		Scan(&t.ID, &t.Hash, &t.UserID, &t.OrgID, &created, &used, &expires, &abs, &revoked)
	if err != nil {
		return nil, notFound(err, "SSO token")
	}
	t.CreatedAt, t.LastUsedAt, t.ExpiresAt, t.AbsoluteExpiresAt = fromMS(created), fromMS(used), fromMS(expires), fromMS(abs)
	t.RevokedAt = fromNullMS(revoked)
	return &t, nil
}

// SlideSSOToken records a successful use at `at`, moving the expiry to
// `expires`, unless a use was recorded less than a minute before or the
// token is revoked. Expiry never moves backwards.
func (db *DB) SlideSSOToken(ctx context.Context, id string, at, expires time.Time) error {
	_, err := db.write.ExecContext(ctx, `UPDATE sso_tokens SET last_used_at = $1, expires_at = $2
		WHERE id = $3 AND revoked_at IS NULL AND last_used_at <= $4 AND expires_at < $2`,
		ms(at), ms(expires), id, ms(at.Add(-time.Minute)))
	return err
}

// RevokeSSOToken revokes an SSO token.
func (db *DB) RevokeSSOToken(ctx context.Context, id string, ev verigate.AuditEvent) error {
	return db.revoke(ctx, "sso_tokens", "SSO token", id, ev)
}

// CreateLoginToken inserts a single-use login token.
func (db *DB) CreateLoginToken(ctx context.Context, t *verigate.LoginToken, ev verigate.AuditEvent) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO login_tokens (id, hash, org_id, issued_by, requested_by, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, t.ID, t.Hash, t.OrgID, t.IssuedBy, t.RequestedBy, ms(t.CreatedAt), ms(t.ExpiresAt)); err != nil {
			return err
		}
		return insertAudit(ctx, tx, ev)
	})
}

// RedeemLoginToken marks the unexpired, unused token with hash used at
// `at` and returns it; a second redemption finds nothing (ENOTFOUND).
func (db *DB) RedeemLoginToken(ctx context.Context, hash []byte, at time.Time, ev verigate.AuditEvent) (*verigate.LoginToken, error) {
	var t verigate.LoginToken
	err := db.tx(ctx, func(tx *sql.Tx) error {
		var created, expires int64
		err := tx.QueryRowContext(ctx, `UPDATE login_tokens SET used_at = $1
			WHERE hash = $2 AND used_at IS NULL AND expires_at > $1
			RETURNING id, org_id, issued_by, requested_by, created_at, expires_at`, ms(at), hash).
			Scan(&t.ID, &t.OrgID, &t.IssuedBy, &t.RequestedBy, &created, &expires)
		if err != nil {
			return notFound(err, "Login token")
		}
		t.CreatedAt, t.ExpiresAt, t.UsedAt = fromMS(created), fromMS(expires), &at
		ev.TargetID, ev.OrgID = t.ID, t.OrgID
		return insertAudit(ctx, tx, ev)
	})
	if err != nil {
		return nil, err
	}
	return &t, nil
}
