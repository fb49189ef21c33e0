package sqlstore

import (
	"context"
	"encoding/json"
	"time"

	"github.com/verigate/verigate"
)

// ApplicantToken reads, in one query, what authenticating an applicant
// token needs: its session's id, organization and mode, the token's
// expiry, and whether the organization's chain is active. A token whose
// session is gone is unknown.
func (db *DB) ApplicantToken(ctx context.Context, hash []byte) (verigate.ApplicantToken, error) {
	var t verigate.ApplicantToken
	var mode string
	var exp int64
	err := db.read.QueryRowContext(ctx, `SELECT c.session_id, c.expires_at, s.org_id, s.mode,
		o.status = 'active' AND (p.id IS NULL OR p.status = 'active') AND (g.id IS NULL OR g.status = 'active')
		FROM csrf_tokens c JOIN verification_sessions s ON s.id = c.session_id
		JOIN organizations o ON o.id = s.org_id
		LEFT JOIN organizations p ON p.id = o.parent_id
		LEFT JOIN organizations g ON g.id = p.parent_id
		WHERE c.hash = $1`, hash).Scan(&t.SessionID, &exp, &t.OrgID, &mode, &t.OrgActive)
	t.Mode, t.Expires = verigate.Mode(mode), fromMS(exp)
	return t, notFound(err, "CSRF token")
}

// GetStepSession returns step id with its session, read in one query.
func (db *DB) GetStepSession(ctx context.Context, id int64) (*verigate.Step, *verigate.Session, error) {
	var st verigate.Step
	var metadata, results string
	var created, updated int64
	stepDest := []any{&st.ID, &st.SessionID, &st.DataSourceID, &st.Type, &st.Status, &st.Nonce, &metadata, &results,
		&st.FailureReason, &created, &updated}
	row := db.read.QueryRowContext(ctx, `SELECT st.id, st.session_id, st.data_source_id, st.type, st.status, st.nonce,
		st.metadata, st.results, st.failure_reason, st.created_at, st.updated_at, `+sessionColumns+sessionFrom+`
		JOIN verification_steps st ON st.session_id = s.id WHERE st.id = $1`, id)
	sess, err := scanSession(scanFunc(func(sessDest ...any) error { return row.Scan(append(stepDest, sessDest...)...) }))
	if err != nil {
		return nil, nil, notFound(err, "Step")
	}
	st.Metadata, st.Results = json.RawMessage(metadata), json.RawMessage(results)
	st.CreatedAt, st.UpdatedAt = fromMS(created), fromMS(updated)
	return &st, sess, nil
}

// scanFunc is a scanner made of a function: a row scanned by two scanners.
type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// ExtendCSRFToken moves an applicant token's expiry to until, if that is
// later and the token was created after createdAfter (the cap on how long
// renewals keep one alive); it reports whether it did.
func (db *DB) ExtendCSRFToken(ctx context.Context, hash []byte, until, createdAfter time.Time) (bool, error) {
	res, err := db.exec(ctx, `UPDATE csrf_tokens SET expires_at = $2 WHERE hash = $1 AND expires_at < $2 AND created_at > $3`,
		hash, ms(until), ms(createdAfter))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}
