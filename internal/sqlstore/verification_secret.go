package sqlstore

import (
	"context"
	"database/sql"

	"github.com/verigate/verigate"
)

// VerificationSecret returns an organization's verification secret in
// mode, sealed.
func (db *DB) VerificationSecret(ctx context.Context, orgID string, mode verigate.Mode) (*verigate.VerificationSecret, error) {
	s := &verigate.VerificationSecret{OrgID: orgID, Mode: mode}
	var until sql.NullInt64
	var created, rotated int64
	err := db.read.QueryRowContext(ctx, `SELECT secret, previous_secret, previous_until, created_at, rotated_at
		FROM verification_secrets WHERE org_id = $1 AND mode = $2`, orgID, string(mode)).
		Scan(&s.Keys.Secret, &s.Keys.Previous, &until, &created, &rotated)
	if err != nil {
		return nil, notFound(err, "Verification secret")
	}
	s.Keys.PreviousUntil, s.CreatedAt, s.RotatedAt = fromNullTime(until), fromMS(created), fromMS(rotated)
	return s, nil
}

// PutVerificationSecret saves s, replacing the organization's secret in
// its mode if it has one, with its audit event.
func (db *DB) PutVerificationSecret(ctx context.Context, s *verigate.VerificationSecret, ev verigate.AuditEvent) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		_, err := db.in(tx).ExecContext(ctx, `INSERT INTO verification_secrets
			(org_id, mode, secret, previous_secret, previous_until, created_at, rotated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (org_id, mode) DO UPDATE SET secret = excluded.secret, previous_secret = excluded.previous_secret,
				previous_until = excluded.previous_until, rotated_at = excluded.rotated_at`,
			s.OrgID, string(s.Mode), s.Keys.Secret, nullBytes(s.Keys.Previous), nullTime(s.Keys.PreviousUntil),
			ms(s.CreatedAt), ms(s.RotatedAt))
		if err != nil {
			return err
		}
		return insertAudit(ctx, tx, ev)
	})
}

// CreateSessionWebhookEndpoint inserts a verification's own endpoint
// (e.SessionID set, no secret of its own) and, when its organization has
// no verification secret in that mode yet, secret, in one transaction.
func (db *DB) CreateSessionWebhookEndpoint(ctx context.Context, e *verigate.WebhookEndpoint, secret *verigate.VerificationSecret) error {
	return db.tx(ctx, func(tx *sql.Tx) error { return db.insertSessionWebhookEndpoint(ctx, tx, e, secret) })
}

// insertSessionWebhookEndpoint is CreateSessionWebhookEndpoint inside tx,
// for a use case that creates the session in the same transaction.
func (db *DB) insertSessionWebhookEndpoint(ctx context.Context, tx *sql.Tx, e *verigate.WebhookEndpoint, secret *verigate.VerificationSecret) error {
	_, err := db.in(tx).ExecContext(ctx, `INSERT INTO verification_secrets
		(org_id, mode, secret, previous_secret, previous_until, created_at, rotated_at) VALUES ($1, $2, $3, NULL, NULL, $4, $4)
		ON CONFLICT (org_id, mode) DO NOTHING`, secret.OrgID, string(secret.Mode), secret.Keys.Secret, ms(secret.CreatedAt))
	if err != nil {
		return err
	}
	return db.insertWebhookEndpoint(ctx, tx, e, verigate.WebhookKeys{Secret: []byte{}})
}
