package sqlstore

import (
	"context"
	"database/sql"
	"strconv"

	"github.com/verigate/verigate"
)

// CreateVerification is CreateSession that also writes the session's own
// webhook endpoint e (when not nil; its SessionID is set here) and, if the
// organization has none yet in that mode, its verification secret, all in
// one transaction: a verification never exists without the webhookUrl it
// was created with, nor the endpoint without its verification.
func (db *DB) CreateVerification(ctx context.Context, s *verigate.Session, steps []*verigate.Step, audit []verigate.AuditEvent,
	events []verigate.OutboxEvent, e *verigate.WebhookEndpoint, secret *verigate.VerificationSecret) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		if err := db.insertSession(ctx, tx, s, steps, audit, events); err != nil {
			return err
		}
		if e == nil {
			return nil
		}
		e.SessionID = s.ID
		return db.insertSessionWebhookEndpoint(ctx, tx, e, secret)
	})
}

// ListVerifications returns one page of the sessions matching f, most
// recent (highest id) first.
func (db *DB) ListVerifications(ctx context.Context, f verigate.VerificationFilter) ([]*verigate.Session, error) {
	if len(f.OrgIDs) == 0 {
		return nil, nil
	}
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	cond := ` WHERE s.org_id IN ` + inList(&args, f.OrgIDs) + ` AND s.mode = ` + arg(string(f.Mode))
	if len(f.Statuses) > 0 {
		cond += ` AND s.status IN ` + inList(&args, f.Statuses)
	}
	if !f.CreatedFrom.IsZero() {
		cond += ` AND s.created_at >= ` + arg(ms(f.CreatedFrom))
	}
	if !f.CreatedTo.IsZero() {
		cond += ` AND s.created_at <= ` + arg(ms(f.CreatedTo))
	}
	if f.ExternalReferenceID != "" {
		cond += ` AND s.external_reference_id = ` + arg(f.ExternalReferenceID)
	}
	if f.Search != "" {
		exact, like := arg(f.Search), arg("%"+escapeLike(fold(f.Search))+"%")
		cond += ` AND (s.external_reference_id = ` + exact + ` OR LOWER(s.applicant_first_name || ' ' || s.applicant_last_name) LIKE ` +
			like + ` ESCAPE '\' OR LOWER(s.applicant_email) LIKE ` + like + ` ESCAPE '\')`
	}
	if f.Before > 0 {
		cond += ` AND s.id < ` + arg(f.Before)
	}
	return list(ctx, db.adhoc, scanSession, `SELECT `+sessionColumns+sessionFrom+cond+` ORDER BY s.id DESC LIMIT `+arg(f.Limit), args...)
}

// SessionWebhookURL returns the URL of a session's own webhook endpoint,
// "" when it has none.
func (db *DB) SessionWebhookURL(ctx context.Context, sessionID int64) (string, error) {
	var url string
	err := db.read.QueryRowContext(ctx, `SELECT url FROM webhook_endpoints WHERE session_id = $1 ORDER BY created_at LIMIT 1`,
		sessionID).Scan(&url)
	if err == sql.ErrNoRows {
		return "", nil
	}
	return url, err
}

// SessionEvents returns up to limit of a session's own events (the
// verification.* and step.updated events of orgID about it), most recent
// first. Events older than the outbox's retention are gone.
func (db *DB) SessionEvents(ctx context.Context, orgID string, sessionID int64, limit int) ([]verigate.Event, error) {
	return list(ctx, db.read, scanEvent, `SELECT `+eventColumns+` FROM events WHERE org_id = $1 AND subject = $2
		AND (type LIKE 'verification.%' OR type = $3) ORDER BY id DESC LIMIT $4`,
		orgID, strconv.FormatInt(sessionID, 10), string(verigate.EventStepUpdated), limit)
}

// EnsureVerificationSecret stores secret as its organization's
// verification secret in its mode unless it has one already.
func (db *DB) EnsureVerificationSecret(ctx context.Context, secret *verigate.VerificationSecret) error {
	_, err := db.exec(ctx, `INSERT INTO verification_secrets
		(org_id, mode, secret, previous_secret, previous_until, created_at, rotated_at) VALUES ($1, $2, $3, NULL, NULL, $4, $4)
		ON CONFLICT (org_id, mode) DO NOTHING`, secret.OrgID, string(secret.Mode), secret.Keys.Secret, ms(secret.CreatedAt))
	return err
}
