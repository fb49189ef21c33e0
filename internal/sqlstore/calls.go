package sqlstore

import (
	"context"
	"database/sql"
	"strconv"
	"strings"

	"github.com/verigate/verigate"
)

// CreateCall inserts a call with its first events, its audit event and
// its outbox events. A call the provider already reported (same provider
// call id) is ECONFLICT.
func (db *DB) CreateCall(ctx context.Context, c *verigate.PhoneCall, ev verigate.AuditEvent, outbox []verigate.OutboxEvent) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO phone_calls (voice_id, institution_id, provider, provider_call_id,
			phone_number, caller_name, received_at, status, person_id, risk_score, risk_level, verified, validation_type,
			decided_by, decided_at, created_at, updated_at, search_text)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
			c.VoiceID, c.InstitutionID, c.Provider, c.ProviderCallID, c.PhoneNumber, c.CallerName, ms(c.ReceivedAt),
			c.Status, c.PersonID, c.Risk.Score, c.Risk.Level, c.Verified, c.ValidationType, c.DecidedBy, msPtr(c.DecidedAt),
			ms(c.CreatedAt), ms(c.UpdatedAt), fold(c.PhoneNumber+" "+c.CallerName))
		if isUnique(err) {
			return verigate.Errorf(verigate.ECONFLICT, "Call %s from %s was already reported.", c.ProviderCallID, c.Provider)
		}
		if err != nil {
			return err
		}
		if err := insertCallEvents(ctx, tx, c.VoiceID, c.Events); err != nil {
			return err
		}
		return writeSideEffects(ctx, db.in(tx), c.VoiceID, []verigate.AuditEvent{ev}, outbox)
	})
}

func insertCallEvents(ctx context.Context, tx *sql.Tx, voiceID string, events []verigate.CallEvent) error {
	for _, e := range events {
		if _, err := tx.ExecContext(ctx, `INSERT INTO call_events (voice_id, at, type, detail) VALUES ($1, $2, $3, $4)`,
			voiceID, ms(e.At), e.Type, e.Detail); err != nil {
			return err
		}
	}
	return nil
}

// UpdateCall applies a CallChange. A call whose status moved on since it
// was read is ECONFLICT, and nothing is written.
func (db *DB) UpdateCall(ctx context.Context, ch verigate.CallChange) error {
	c := ch.Call
	return db.tx(ctx, func(tx *sql.Tx) error {
		if m := ch.Member; m != nil {
			// Each decision writes only its own columns, so concurrent
			// decisions on one member never undo each other.
			set := `name = $3, name_folded = $11, updated_at = $10`
			args := []any{m.InstitutionID, m.PersonID, m.Name, m.VoiceEnrolled, m.EnrolledVoiceID, msPtr(m.EnrolledAt),
				m.VerificationCount, msPtr(m.LastVerifiedAt), ms(m.CreatedAt), ms(m.UpdatedAt), fold(m.Name)}
			if ch.MemberEnrollment {
				set = `voice_enrolled = $4, enrolled_voice_id = $5, enrolled_at = $6,
					verification_count = members.verification_count + $12, last_verified_at = CASE WHEN $12 > 0 THEN $8 ELSE members.last_verified_at END, updated_at = $10`
				args = append(args, verified(ch))
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO members (institution_id, person_id, name, voice_enrolled,
				enrolled_voice_id, enrolled_at, verification_count, last_verified_at, created_at, updated_at, name_folded)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
				ON CONFLICT (institution_id, person_id) DO UPDATE SET `+set, args...); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `UPDATE phone_calls SET status = $1, person_id = $2, verified = $3,
			validation_type = $4, decided_by = $5, decided_at = $6, updated_at = $7
			WHERE voice_id = $8 AND status = $9 AND person_id = $10`,
			c.Status, c.PersonID, c.Verified, c.ValidationType, c.DecidedBy, msPtr(c.DecidedAt), ms(c.UpdatedAt), c.VoiceID,
			ch.FromStatus, ch.FromPersonID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return verigate.Errorf(verigate.ECONFLICT, "The call changed meanwhile; read it again.")
		}
		if v := ch.Verification; v != nil {
			if _, err := tx.ExecContext(ctx, `INSERT INTO member_verifications (institution_id, person_id, voice_id,
				validation_type, requested_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
				v.InstitutionID, v.PersonID, v.VoiceID, v.ValidationType, v.RequestedBy, ms(v.CreatedAt)); err != nil {
				return err
			}
		}
		if err := insertCallEvents(ctx, tx, c.VoiceID, ch.Events); err != nil {
			return err
		}
		return writeSideEffects(ctx, db.in(tx), c.VoiceID, ch.Audit, ch.Outbox)
	})
}

const callColumns = `c.voice_id, c.institution_id, c.provider, c.provider_call_id, c.phone_number, c.caller_name,
	c.received_at, c.status, c.person_id, c.risk_score, c.risk_level, c.verified, c.validation_type, c.decided_by,
	c.decided_at, c.created_at, c.updated_at,
	m.person_id, m.name, m.voice_enrolled, m.enrolled_voice_id, m.enrolled_at, m.verification_count,
	m.last_verified_at, m.created_at, m.updated_at`

const callFrom = ` FROM phone_calls c LEFT JOIN members m ON m.institution_id = c.institution_id AND m.person_id = c.person_id AND c.person_id <> ''`

func scanCall(row scanner) (*verigate.PhoneCall, error) {
	var c verigate.PhoneCall
	var received, created, updated int64
	var decided sql.NullInt64
	var mPerson, mName, mVoice sql.NullString
	var mEnrolled sql.NullBool
	var mEnrolledAt, mLastVerified, mCreated, mUpdated sql.NullInt64
	var mCount sql.NullInt64
	if err := row.Scan(&c.VoiceID, &c.InstitutionID, &c.Provider, &c.ProviderCallID, &c.PhoneNumber, &c.CallerName,
		&received, &c.Status, &c.PersonID, &c.Risk.Score, &c.Risk.Level, &c.Verified, &c.ValidationType, &c.DecidedBy,
		&decided, &created, &updated,
		&mPerson, &mName, &mEnrolled, &mVoice, &mEnrolledAt, &mCount, &mLastVerified, &mCreated, &mUpdated); err != nil {
		return nil, err
	}
	c.ReceivedAt, c.CreatedAt, c.UpdatedAt, c.DecidedAt = fromMS(received), fromMS(created), fromMS(updated), fromNullMS(decided)
	if mPerson.Valid {
		c.Member = &verigate.Member{InstitutionID: c.InstitutionID, PersonID: mPerson.String, Name: mName.String,
			VoiceEnrolled: mEnrolled.Bool, EnrolledVoiceID: mVoice.String, EnrolledAt: fromNullMS(mEnrolledAt),
			VerificationCount: int(mCount.Int64), LastVerifiedAt: fromNullMS(mLastVerified),
			CreatedAt: fromMS(mCreated.Int64), UpdatedAt: fromMS(mUpdated.Int64)}
	}
	return &c, nil
}

// GetCall returns a call of an institution with its events; a call of
// another institution is ENOTFOUND.
func (db *DB) GetCall(ctx context.Context, institutionID, voiceID string) (*verigate.PhoneCall, error) {
	c, err := scanCall(db.read.QueryRowContext(ctx, `SELECT `+callColumns+callFrom+` WHERE c.voice_id = $1 AND c.institution_id = $2`,
		voiceID, institutionID))
	if err != nil {
		return nil, notFound(err, "Phone call")
	}
	if err := db.loadEvents(ctx, []*verigate.PhoneCall{c}); err != nil {
		return nil, err
	}
	return c, nil
}

// GetMember returns a member of an institution.
func (db *DB) GetMember(ctx context.Context, institutionID, personID string) (*verigate.Member, error) {
	var m verigate.Member
	var enrolledAt, lastVerified sql.NullInt64
	var created, updated int64
	err := db.read.QueryRowContext(ctx, `SELECT institution_id, person_id, name, voice_enrolled, enrolled_voice_id,
		enrolled_at, verification_count, last_verified_at, created_at, updated_at FROM members
		WHERE institution_id = $1 AND person_id = $2`, institutionID, personID).
		Scan(&m.InstitutionID, &m.PersonID, &m.Name, &m.VoiceEnrolled, &m.EnrolledVoiceID, &enrolledAt,
			&m.VerificationCount, &lastVerified, &created, &updated)
	if err != nil {
		return nil, notFound(err, "Member")
	}
	m.EnrolledAt, m.LastVerifiedAt, m.CreatedAt, m.UpdatedAt = fromNullMS(enrolledAt), fromNullMS(lastVerified), fromMS(created), fromMS(updated)
	return &m, nil
}

// ListCalls returns one page of the calls matching f, oldest first, with
// their events, and how many match in all.
func (db *DB) ListCalls(ctx context.Context, f verigate.CallFilter) ([]*verigate.PhoneCall, int, error) {
	where := []string{"c.institution_id = $1"}
	args := []any{f.InstitutionID}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if len(f.Statuses) > 0 {
		where = append(where, "c.status IN "+inList(&args, f.Statuses))
	}
	if f.Search != "" {
		p := arg("%" + escapeLike(fold(f.Search)) + "%")
		where = append(where, "(c.search_text LIKE "+p+" ESCAPE '\\' OR COALESCE(m.name_folded, '') LIKE "+p+" ESCAPE '\\')")
	}
	if f.From != nil {
		where = append(where, "c.received_at >= "+arg(ms(*f.From)))
	}
	if f.To != nil {
		where = append(where, "c.received_at <= "+arg(ms(*f.To)))
	}
	cond := " WHERE " + strings.Join(where, " AND ")
	var total int
	if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*)`+callFrom+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	calls, err := list(ctx, db.read, scanCall, `SELECT `+callColumns+callFrom+cond+
		` ORDER BY c.received_at, c.voice_id LIMIT `+arg(f.Limit)+` OFFSET `+arg(f.Offset), args...)
	if err != nil {
		return nil, 0, err
	}
	return calls, total, db.loadEvents(ctx, calls)
}

// GetCallByProviderID returns the call a provider reported under callID.
func (db *DB) GetCallByProviderID(ctx context.Context, institutionID, provider, callID string) (*verigate.PhoneCall, error) {
	c, err := scanCall(db.read.QueryRowContext(ctx, `SELECT `+callColumns+callFrom+`
		WHERE c.institution_id = $1 AND c.provider = $2 AND c.provider_call_id = $3`, institutionID, provider, callID))
	if err != nil {
		return nil, notFound(err, "Phone call")
	}
	return c, db.loadEvents(ctx, []*verigate.PhoneCall{c})
}

// FindCallByPhone returns the oldest call awaiting assignment from phone.
func (db *DB) FindCallByPhone(ctx context.Context, institutionID, phone string) (*verigate.PhoneCall, error) {
	c, err := scanCall(db.read.QueryRowContext(ctx, `SELECT `+callColumns+callFrom+`
		WHERE c.institution_id = $1 AND c.phone_number = $2 AND c.status = $3
		ORDER BY c.received_at, c.voice_id LIMIT 1`, institutionID, phone, verigate.CallQueued))
	if err != nil {
		return nil, notFound(err, "Phone call")
	}
	return c, db.loadEvents(ctx, []*verigate.PhoneCall{c})
}

func (db *DB) loadEvents(ctx context.Context, calls []*verigate.PhoneCall) error {
	if len(calls) == 0 {
		return nil
	}
	byID := map[string]*verigate.PhoneCall{}
	var ids, args []any
	for _, c := range calls {
		byID[c.VoiceID] = c
		c.Events = []verigate.CallEvent{}
		ids = append(ids, c.VoiceID)
	}
	q := `SELECT voice_id, at, type, detail FROM call_events WHERE voice_id IN ` + inList(&args, ids) + ` ORDER BY id`
	rows, err := db.adhoc.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var e verigate.CallEvent
		var at int64
		if err := rows.Scan(&id, &at, &e.Type, &e.Detail); err != nil {
			return err
		}
		e.At = fromMS(at)
		byID[id].Events = append(byID[id].Events, e)
	}
	return rows.Err()
}

// escapeLike escapes LIKE's wildcards with a backslash.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// verified is how many verifications a change adds to its member's count:
// counted in SQL, so concurrent decisions on one member never lose one.
func verified(ch verigate.CallChange) int {
	if ch.Verification != nil {
		return 1
	}
	return 0
}
