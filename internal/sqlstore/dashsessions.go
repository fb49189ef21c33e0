package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/verigate/verigate"
)

// CreateDashboardSession inserts a dashboard session, and the sign-in's
// audit event with it.
func (db *DB) CreateDashboardSession(ctx context.Context, s *verigate.DashboardSession, ev verigate.AuditEvent) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO dashboard_sessions (id, hash, user_id, org_id, requested_by, via, mode,
			created_at, last_used_at, expires_at, absolute_expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			s.ID, s.Hash, s.UserID, s.OrgID, s.RequestedBy, s.Via, string(s.Mode), ms(s.CreatedAt), ms(s.LastUsedAt), ms(s.ExpiresAt),
			ms(s.AbsoluteExpiresAt)); err != nil {
			return err
		}
		return insertAudit(ctx, tx, ev)
	})
}

// GetDashboardSessionByHash finds a dashboard session by the SHA-256 of
// its secret.
func (db *DB) GetDashboardSessionByHash(ctx context.Context, hash []byte) (*verigate.DashboardSession, error) {
	var s verigate.DashboardSession
	var created, used, expires, abs int64
	var revoked sql.NullInt64
	var mode string
	err := db.read.QueryRowContext(ctx, `SELECT id, hash, user_id, org_id, requested_by, via, mode, created_at, last_used_at,
		expires_at, absolute_expires_at, revoked_at FROM dashboard_sessions WHERE hash = $1`, hash).
		Scan(&s.ID, &s.Hash, &s.UserID, &s.OrgID, &s.RequestedBy, &s.Via, &mode, &created, &used, &expires, &abs, &revoked)
	if err != nil {
		return nil, notFound(err, "Dashboard session")
	}
	s.CreatedAt, s.LastUsedAt, s.ExpiresAt, s.AbsoluteExpiresAt = fromMS(created), fromMS(used), fromMS(expires), fromMS(abs)
	s.RevokedAt, s.Mode = fromNullMS(revoked), verigate.Mode(mode)
	return &s, nil
}

// SlideDashboardSession records a use at `at`, moving the idle expiry to
// `expires`, unless a use was recorded less than a minute before or the
// session is revoked. Expiry never moves backwards.
func (db *DB) SlideDashboardSession(ctx context.Context, id string, at, expires time.Time) error {
	_, err := db.write.ExecContext(ctx, `UPDATE dashboard_sessions SET last_used_at = $1, expires_at = $2
		WHERE id = $3 AND revoked_at IS NULL AND last_used_at <= $4 AND expires_at < $2`,
		ms(at), ms(expires), id, ms(at.Add(-time.Minute)))
	return err
}

// SetDashboardSessionView moves a live session to another organization
// or mode (the switchers), with its audit event.
func (db *DB) SetDashboardSessionView(ctx context.Context, id, orgID string, mode verigate.Mode, ev verigate.AuditEvent) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE dashboard_sessions SET org_id = $1, mode = $2 WHERE id = $3 AND revoked_at IS NULL`, orgID, string(mode), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return verigate.Errorf(verigate.ENOTFOUND, "Dashboard session %s not found.", id)
		}
		return insertAudit(ctx, tx, ev)
	})
}

// RevokeDashboardSession ends a dashboard session (signing out).
func (db *DB) RevokeDashboardSession(ctx context.Context, id string, ev verigate.AuditEvent) error {
	return db.revoke(ctx, "dashboard_sessions", "Dashboard session", id, ev)
}
