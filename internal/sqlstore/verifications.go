package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/verigate/verigate"
)

func jsonText(raw json.RawMessage, empty string) string {
	if len(raw) == 0 {
		return empty
	}
	return string(raw)
}

func nullInt(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

// CreateSession inserts a session (setting its ID) with its first steps,
// audit and outbox events, in one transaction of one statement per table
// written.
func (db *DB) CreateSession(ctx context.Context, s *verigate.Session, steps []*verigate.Step, audit []verigate.AuditEvent, events []verigate.OutboxEvent) error {
	return db.tx(ctx, func(tx *sql.Tx) error { return db.insertSession(ctx, tx, s, steps, audit, events) })
}

// insertSession is CreateSession inside tx.
func (db *DB) insertSession(ctx context.Context, tx *sql.Tx, s *verigate.Session, steps []*verigate.Step, audit []verigate.AuditEvent, events []verigate.OutboxEvent) error {
	allowed, _ := json.Marshal(s.AllowedSources)
	q := db.in(tx)
	query := `INSERT INTO verification_sessions (org_id, mode, status, version, expiry_date,
		metadata, applicant_id, applicant_data, instructions, applicant_first_name, applicant_last_name,
		applicant_email, allowed_sources, selected_platform, verification_type_id, redirect_url, link_hash,
		created_by, reviewer_id, review_reason, created_at, updated_at, link_sealed, external_reference_id, state,
		applicant_phone, applicant_dob, cancel_reason)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, '', '', $19, $20,
		$21, $22, $23, $24, $25, $26)`
	args := []any{s.OrgID, string(s.Mode), s.Status, s.Version, ms(s.ExpiryDate), jsonText(s.Metadata, "{}"), s.ApplicantID,
		jsonText(s.ApplicantData, "{}"), s.Instructions, s.ApplicantFirstName, s.ApplicantLastName, s.ApplicantEmail,
		string(allowed), nullInt(s.SelectedPlatform), nullInt(s.VerificationTypeID), s.RedirectURL, s.LinkHash,
		s.CreatedBy, ms(s.CreatedAt), ms(s.UpdatedAt), sealedBytes(s.LinkSealed), s.ExternalReferenceID, s.State,
		s.ApplicantPhone, s.ApplicantDOB, string(s.CancelReason)}
	var err error
	if db.dialect == SQLite {
		// The inserted row's id without RETURNING's result rows: an
		// exec is cheaper, and this runs in the group commit's loop.
		var res sql.Result
		if res, err = q.ExecContext(ctx, query, args...); err == nil {
			s.ID, err = res.LastInsertId()
		}
	} else {
		err = q.QueryRowContext(ctx, query+` RETURNING id`, args...).Scan(&s.ID)
	}
	if err != nil {
		return err
	}
	if err := insertSteps(ctx, q, s.ID, steps); err != nil {
		return err
	}
	return writeSideEffects(ctx, q, strconv.FormatInt(s.ID, 10), audit, events)
}

// sealedBytes is b, never nil: the column is NOT NULL.
func sealedBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// writeSideEffects writes audit and outbox events, one statement for
// each kind; an audit target left empty is the new object's id. Events
// are rendered here, after the change's own writes, so an event about a
// new object carries its id.
func writeSideEffects(ctx context.Context, q queryer, id string, audit []verigate.AuditEvent, events []verigate.OutboxEvent) error {
	if len(audit) > 0 {
		var args []any
		var rows []string
		for _, ev := range audit {
			if ev.TargetID == "" {
				ev.TargetID = id
			}
			details := []byte("{}")
			if len(ev.Details) > 0 {
				var err error
				if details, err = json.Marshal(ev.Details); err != nil {
					return err
				}
			}
			rows = append(rows, values(&args, ms(ev.At), string(ev.ActorKind), ev.ActorID, ev.RequestedBy, ev.Action,
				ev.TargetKind, ev.TargetID, ev.OrgID, ev.RequestID, ev.Outcome, string(details)))
		}
		query := `INSERT INTO audit_events (at, actor_kind, actor_id, requested_by, action, target_kind, target_id, org_id,
			request_id, outcome, details) VALUES ` + strings.Join(rows, ", ")
		if _, err := q.ExecContext(ctx, query, args...); err != nil {
			return err
		}
	}
	if len(events) > 0 {
		var args []any
		var rows []string
		for _, o := range events {
			e, err := o.Render()
			if err != nil {
				return err
			}
			rows = append(rows, values(&args, e.OrgID, string(e.Mode), e.Type, e.Subject, jsonText(e.Payload, "{}"), ms(e.CreatedAt)))
		}
		query := `INSERT INTO events (org_id, mode, type, subject, payload, created_at) VALUES ` + strings.Join(rows, ", ")
		if _, err := q.ExecContext(ctx, query, args...); err != nil {
			return err
		}
		markEvents(q)
	}
	return nil
}

// values appends vals to args and returns their row of placeholders,
// "($n, …)", for a multi-row INSERT.
func values(args *[]any, vals ...any) string { return inList(args, vals) }

const sessionColumns = `s.id, s.org_id, s.mode, s.status, s.version, s.expiry_date, s.metadata, s.applicant_id,
	s.applicant_data, s.instructions, s.applicant_first_name, s.applicant_last_name, s.applicant_email,
	s.allowed_sources, s.selected_platform, s.verification_type_id, s.redirect_url, s.link_hash, s.created_by,
	s.reviewer_id, s.review_reason, s.created_at, s.updated_at, s.completed_at, n.number, s.link_sealed,
	s.external_reference_id, s.state, s.applicant_phone, s.applicant_dob, s.cancel_reason`

const sessionFrom = ` FROM verification_sessions s JOIN org_numbers n ON n.org_id = s.org_id`

func scanSession(r scanner) (*verigate.Session, error) {
	var s verigate.Session
	var mode, metadata, applicantData, allowed string
	var expiry, created, updated int64
	var selected, vtype, completed sql.NullInt64
	if err := r.Scan(&s.ID, &s.OrgID, &mode, &s.Status, &s.Version, &expiry, &metadata, &s.ApplicantID,
		&applicantData, &s.Instructions, &s.ApplicantFirstName, &s.ApplicantLastName, &s.ApplicantEmail,
		&allowed, &selected, &vtype, &s.RedirectURL, &s.LinkHash, &s.CreatedBy, &s.ReviewerID, &s.ReviewReason,
		&created, &updated, &completed, &s.TeamID, &s.LinkSealed, &s.ExternalReferenceID, &s.State, &s.ApplicantPhone,
		&s.ApplicantDOB, &s.CancelReason); err != nil {
		return nil, err
	}
	s.Mode, s.Metadata, s.ApplicantData = verigate.Mode(mode), json.RawMessage(metadata), json.RawMessage(applicantData)
	if err := json.Unmarshal([]byte(allowed), &s.AllowedSources); err != nil {
		return nil, err
	}
	if selected.Valid {
		s.SelectedPlatform = &selected.Int64
	}
	if vtype.Valid {
		s.VerificationTypeID = &vtype.Int64
	}
	s.ExpiryDate, s.CreatedAt, s.UpdatedAt, s.CompletedAt = fromMS(expiry), fromMS(created), fromMS(updated), fromNullMS(completed)
	return &s, nil
}

// GetSession returns the session with id.
func (db *DB) GetSession(ctx context.Context, id int64) (*verigate.Session, error) {
	s, err := scanSession(db.read.QueryRowContext(ctx, `SELECT `+sessionColumns+sessionFrom+` WHERE s.id = $1`, id))
	return s, notFound(err, "Session")
}

// GetSessionByLinkHash returns the session whose link token hashes to hash.
func (db *DB) GetSessionByLinkHash(ctx context.Context, hash []byte) (*verigate.Session, error) {
	s, err := scanSession(db.read.QueryRowContext(ctx, `SELECT `+sessionColumns+sessionFrom+` WHERE s.link_hash = $1`, hash))
	return s, notFound(err, "Session")
}

var sessionSort = map[string]string{"createdAt": "s.created_at", "updatedAt": "s.updated_at", "status": "s.status"}

// ListSessions returns one page of the sessions matching f and the total.
func (db *DB) ListSessions(ctx context.Context, f verigate.SessionFilter) ([]*verigate.Session, int, error) {
	if len(f.OrgIDs) == 0 {
		return nil, 0, nil
	}
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	cond := ` WHERE s.org_id IN ` + inList(&args, f.OrgIDs)
	if f.Mode != "" {
		cond += ` AND s.mode = ` + arg(string(f.Mode))
	}
	if f.Status != "" {
		cond += ` AND s.status = ` + arg(f.Status)
	}
	var total int
	if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*)`+sessionFrom+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	col, ok := sessionSort[f.SortBy]
	if !ok {
		col = "s.created_at"
	}
	dir := "DESC"
	if f.SortOrder == "asc" {
		dir = "ASC"
	}
	list, err := list(ctx, db.read, scanSession, `SELECT `+sessionColumns+sessionFrom+cond+
		` ORDER BY `+col+` `+dir+`, s.id `+dir+` LIMIT `+arg(f.Limit)+` OFFSET `+arg(f.Offset), args...)
	return list, total, err
}

// DueSessions returns up to limit ids, above afterID and in order, of open
// sessions past their expiry.
func (db *DB) DueSessions(ctx context.Context, now time.Time, afterID int64, limit int) ([]int64, error) {
	return list(ctx, db.read, func(r scanner) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	}, `SELECT id FROM verification_sessions WHERE status IN ($1, $2) AND expiry_date <= $3 AND id > $4 ORDER BY id LIMIT $5`,
		verigate.SessionPending, verigate.SessionProcessing, ms(now), afterID, limit)
}

const stepColumns = `id, session_id, data_source_id, type, status, nonce, metadata, results, failure_reason, created_at, updated_at`

func scanStep(r scanner) (*verigate.Step, error) {
	var s verigate.Step
	var metadata, results string
	var created, updated int64
	if err := r.Scan(&s.ID, &s.SessionID, &s.DataSourceID, &s.Type, &s.Status, &s.Nonce, &metadata, &results,
		&s.FailureReason, &created, &updated); err != nil {
		return nil, err
	}
	s.Metadata, s.Results = json.RawMessage(metadata), json.RawMessage(results)
	s.CreatedAt, s.UpdatedAt = fromMS(created), fromMS(updated)
	return &s, nil
}

// GetStep returns the step with id.
func (db *DB) GetStep(ctx context.Context, id int64) (*verigate.Step, error) {
	s, err := scanStep(db.read.QueryRowContext(ctx, `SELECT `+stepColumns+` FROM verification_steps WHERE id = $1`, id))
	return s, notFound(err, "Step")
}

// ListSteps returns a session's steps, in creation order.
func (db *DB) ListSteps(ctx context.Context, sessionID int64) ([]*verigate.Step, error) {
	steps, err := list(ctx, db.read, scanStep, `SELECT `+stepColumns+` FROM verification_steps WHERE session_id = $1 ORDER BY id`, sessionID)
	if steps == nil && err == nil {
		steps = []*verigate.Step{}
	}
	return steps, err
}

// ApplySessionChange writes a SessionChange in one transaction.
func (db *DB) ApplySessionChange(ctx context.Context, ch verigate.SessionChange) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		q := db.in(tx)
		s := ch.Session
		res, err := q.ExecContext(ctx, `UPDATE verification_sessions SET status = $1, version = version + 1,
			selected_platform = $2, link_hash = $3, reviewer_id = $4, review_reason = $5, updated_at = $6, completed_at = $7,
			verification_type_id = $8, link_sealed = $9, cancel_reason = $10 WHERE id = $11 AND version = $12`,
			s.Status, nullInt(s.SelectedPlatform), s.LinkHash, s.ReviewerID, s.ReviewReason, ms(s.UpdatedAt),
			msPtr(s.CompletedAt), nullInt(s.VerificationTypeID), sealedBytes(s.LinkSealed), string(s.CancelReason), s.ID, s.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return verigate.Errorf(verigate.ECONFLICT, "The session changed meanwhile; try again.")
		}
		if err := insertSteps(ctx, q, s.ID, ch.NewSteps); err != nil {
			return err
		}
		if ch.RevokeCSRF {
			if _, err := q.ExecContext(ctx, `DELETE FROM csrf_tokens WHERE session_id = $1`, s.ID); err != nil {
				return err
			}
		}
		for _, u := range ch.Steps {
			st := u.Step
			res, err := q.ExecContext(ctx, `UPDATE verification_steps SET status = $1, metadata = $2, results = $3,
				failure_reason = $4, updated_at = $5 WHERE id = $6 AND session_id = $7 AND status = $8`,
				st.Status, jsonText(st.Metadata, "{}"), jsonText(st.Results, "{}"), st.FailureReason, ms(st.UpdatedAt),
				st.ID, s.ID, u.FromStatus)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return verigate.Errorf(verigate.ECONFLICT, "Step %d changed meanwhile; try again.", st.ID)
			}
		}
		for _, p := range ch.Proofs {
			_, err := q.ExecContext(ctx, `INSERT INTO proofs (identifier, step_id, signer, created_at) VALUES ($1, $2, $3, $4)`,
				p.Identifier, p.StepID, p.Signer, ms(p.CreatedAt))
			if isUnique(err) {
				return verigate.Errorf(verigate.ECONFLICT, "This proof (%s) was already accepted; a proof is accepted once.", p.Identifier)
			}
			if err != nil {
				return err
			}
		}
		if err := writeSideEffects(ctx, q, strconv.FormatInt(s.ID, 10), ch.Audit, ch.Events); err != nil {
			return err
		}
		s.Version++
		return nil
	})
}

// insertSteps inserts steps in one statement and sets their ids. The ids
// are given in VALUES order on both engines (rowid, sequence); RETURNING's
// row order is not promised, so the returned ids are sorted first.
func insertSteps(ctx context.Context, q queryer, sessionID int64, steps []*verigate.Step) error {
	if len(steps) == 0 {
		return nil
	}
	var args []any
	var rows []string
	for _, st := range steps {
		st.SessionID = sessionID
		rows = append(rows, values(&args, sessionID, st.DataSourceID, st.Type, st.Status, st.Nonce,
			jsonText(st.Metadata, "{}"), jsonText(st.Results, "{}"), st.FailureReason, ms(st.CreatedAt), ms(st.UpdatedAt)))
	}
	query := `INSERT INTO verification_steps (session_id, data_source_id, type, status, nonce, metadata, results,
		failure_reason, created_at, updated_at) VALUES ` + strings.Join(rows, ", ") + ` RETURNING id`
	ids, err := list(ctx, q, func(r scanner) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	}, query, args...)
	if err != nil {
		return err
	}
	if len(ids) != len(steps) {
		return fmt.Errorf("insert steps: %d ids for %d steps", len(ids), len(steps))
	}
	slices.Sort(ids)
	for i, st := range steps {
		st.ID = ids[i]
	}
	return nil
}

// exec runs one write statement in a transaction of its own, so that on
// SQLite it shares the group commit with the writes waiting beside it.
func (db *DB) exec(ctx context.Context, query string, args ...any) (res sql.Result, err error) {
	err = db.tx(ctx, func(tx *sql.Tx) error {
		res, err = db.in(tx).ExecContext(ctx, query, args...)
		return err
	})
	return res, err
}

// ProofUsed reports whether a proof identifier was accepted before.
func (db *DB) ProofUsed(ctx context.Context, identifier string) (bool, error) {
	var n int
	err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM proofs WHERE identifier = $1`, identifier).Scan(&n)
	return n > 0, err
}

// CreateCSRFToken stores a CSRF token's hash for a session, if the
// session's link is still linkHash (a link renewed meanwhile: ENOTFOUND),
// and records when the session's link was first opened.
func (db *DB) CreateCSRFToken(ctx context.Context, hash []byte, sessionID int64, linkHash []byte, created, expires time.Time) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		q := db.in(tx)
		res, err := q.ExecContext(ctx, `INSERT INTO csrf_tokens (hash, session_id, created_at, expires_at)
			SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM verification_sessions WHERE id = $2 AND link_hash = $5)`,
			hash, sessionID, ms(created), ms(expires), linkHash)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return verigate.Errorf(verigate.ENOTFOUND, "Session link not found.")
		}
		// Not a change of the session: its version stays.
		_, err = q.ExecContext(ctx, `UPDATE verification_sessions SET opened_at = $2 WHERE id = $1 AND opened_at IS NULL`,
			sessionID, ms(created))
		return err
	})
}

// GetCSRFToken returns the session and expiry of a CSRF token.
func (db *DB) GetCSRFToken(ctx context.Context, hash []byte) (sessionID int64, expires time.Time, err error) {
	var exp int64
	err = db.read.QueryRowContext(ctx, `SELECT session_id, expires_at FROM csrf_tokens WHERE hash = $1`, hash).Scan(&sessionID, &exp)
	return sessionID, fromMS(exp), notFound(err, "CSRF token")
}

// ClaimIdempotencyKey claims (scope, key) for a request. When the key is
// new it is claimed (nil record); otherwise the earlier record is returned
// (Status 0 while that request still runs). Records older than since are
// replaced as if absent.
func (db *DB) ClaimIdempotencyKey(ctx context.Context, scope, key string, requestHash []byte, now, since time.Time) (*verigate.IdempotencyRecord, error) {
	var rec *verigate.IdempotencyRecord
	err := db.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND created_at < $3`,
			scope, key, ms(since)); err != nil {
			return err
		}
		r := verigate.IdempotencyRecord{}
		var created int64
		err := tx.QueryRowContext(ctx, `SELECT request_hash, status, body, created_at FROM idempotency_keys WHERE scope = $1 AND key = $2`,
			scope, key).Scan(&r.RequestHash, &r.Status, &r.Body, &created)
		if err == nil {
			r.CreatedAt = fromMS(created)
			rec = &r
			return nil
		}
		if err != sql.ErrNoRows {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO idempotency_keys (scope, key, request_hash, status, body, created_at)
			VALUES ($1, $2, $3, 0, '', $4)`, scope, key, requestHash, ms(now))
		if isUnique(err) {
			return verigate.Errorf(verigate.ECONFLICT, "A request with this Idempotency-Key is in progress.")
		}
		return err
	})
	return rec, err
}

// FinishIdempotencyKey stores the response of a claimed key.
func (db *DB) FinishIdempotencyKey(ctx context.Context, scope, key string, status int, body []byte) error {
	_, err := db.exec(ctx, `UPDATE idempotency_keys SET status = $1, body = $2 WHERE scope = $3 AND key = $4`,
		status, string(body), scope, key)
	return err
}

// ReleaseIdempotencyKey forgets a claimed key whose request failed.
func (db *DB) ReleaseIdempotencyKey(ctx context.Context, scope, key string) error {
	_, err := db.exec(ctx, `DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND status = 0`, scope, key)
	return err
}

// RetiredLinkKeep is how long after its session's expiry a renewed
// link is remembered.
const RetiredLinkKeep = 30 * 24 * time.Hour

// PurgeExpired deletes CSRF tokens, idempotency keys, retired links and
// dashboard sessions past their time.
func (db *DB) PurgeExpired(ctx context.Context, now, idempotencySince time.Time) error {
	if _, err := db.exec(ctx, `DELETE FROM csrf_tokens WHERE expires_at < $1`, ms(now)); err != nil {
		return err
	}
	// A retired link tells its holder "replaced" while its session may
	// still be worked on, and for RetiredLinkKeep after; then it is
	// merely not valid.
	if _, err := db.exec(ctx, `DELETE FROM retired_links WHERE session_id IN
		(SELECT id FROM verification_sessions WHERE expiry_date < $1)`, ms(now.Add(-RetiredLinkKeep))); err != nil {
		return err
	}
	// A dashboard session past its absolute cap can never be used again.
	if _, err := db.exec(ctx, `DELETE FROM dashboard_sessions WHERE absolute_expires_at < $1`, ms(now)); err != nil {
		return err
	}
	_, err := db.exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, ms(idempotencySince))
	return err
}

const eventColumns = `id, org_id, mode, type, subject, payload, created_at`

func scanEvent(r scanner) (verigate.Event, error) {
	var e verigate.Event
	var mode, payload string
	var created int64
	err := r.Scan(&e.ID, &e.OrgID, &mode, &e.Type, &e.Subject, &payload, &created)
	e.Mode, e.Payload, e.CreatedAt = verigate.Mode(mode), json.RawMessage(payload), fromMS(created)
	return e, err
}

// ListEvents returns outbox events of an organization after id afterID.
func (db *DB) ListEvents(ctx context.Context, orgID string, afterID int64, limit int) ([]verigate.Event, error) {
	return list(ctx, db.read, scanEvent, `SELECT `+eventColumns+` FROM events WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
		orgID, afterID, limit)
}

// ListEventsIn returns a page of the events of f's organizations and
// mode, by id after f.After, in one query.
func (db *DB) ListEventsIn(ctx context.Context, f verigate.EventFilter) ([]verigate.Event, error) {
	if len(f.OrgIDs) == 0 {
		return nil, nil
	}
	args := []any{string(f.Mode), f.After}
	cond := ` WHERE mode = $1 AND id > $2 AND org_id IN ` + inList(&args, f.OrgIDs)
	if f.Type != "" {
		args = append(args, string(f.Type))
		cond += ` AND type = $` + itoa(len(args))
	}
	args = append(args, f.Limit)
	return list(ctx, db.adhoc, scanEvent, `SELECT `+eventColumns+` FROM events`+cond+` ORDER BY id LIMIT $`+itoa(len(args)), args...)
}

// OutboxAfter returns the outbox events of every organization written
// after id afterID, in the order they were written: what a webhook
// delivery worker reads from its last delivered id on.
func (db *DB) OutboxAfter(ctx context.Context, afterID int64, limit int) ([]verigate.Event, error) {
	return list(ctx, db.write, scanEvent, `SELECT `+eventColumns+` FROM events WHERE id > $1 ORDER BY id LIMIT $2`, afterID, limit)
}

// SessionOrg reads, in one statement, what a new session needs of the
// organization it goes under (named by id, or by key when byKey): the
// organization, its chain of ids nearest first, whether that whole chain
// is active, and its number.
func (db *DB) SessionOrg(ctx context.Context, idOrKey string, byKey bool) (org *verigate.Organization, chain []string, active bool, number int64, err error) {
	where := `o.id = $1`
	if byKey {
		where = `o.key = $1`
	}
	var o verigate.Organization
	var kind string
	var created, updated int64
	var p, g sql.NullString
	err = db.read.QueryRowContext(ctx, `SELECT o.id, o.kind, o.key, o.name, COALESCE(o.parent_id, ''), o.core,
		o.status, o.created_at, o.updated_at, p.id, g.id,
		CASE WHEN o.status = 'active' AND (p.id IS NULL OR p.status = 'active') AND (g.id IS NULL OR g.status = 'active')
			THEN 1 ELSE 0 END, COALESCE(n.number, 0)
		FROM organizations o
		LEFT JOIN organizations p ON p.id = o.parent_id
		LEFT JOIN organizations g ON g.id = p.parent_id
		LEFT JOIN org_numbers n ON n.org_id = o.id
		WHERE `+where, idOrKey).Scan(&o.ID, &kind, &o.Key, &o.Name, &o.ParentID, &o.Core, &o.Status, &created, &updated,
		&p, &g, &active, &number)
	if err != nil {
		return nil, nil, false, 0, notFound(err, "Organization")
	}
	o.Kind, o.CreatedAt, o.UpdatedAt = verigate.OrgKind(kind), fromMS(created), fromMS(updated)
	chain = []string{o.ID}
	for _, a := range []sql.NullString{p, g} {
		if a.Valid {
			chain = append(chain, a.String)
		}
	}
	return &o, chain, active, number, nil
}
