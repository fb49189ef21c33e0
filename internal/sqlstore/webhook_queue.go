package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/verigate/verigate"
)

// The delivery queue: the dispatcher turns events into messages, workers
// claim each endpoint's head of queue with a lease and record what their
// attempts came to.

// dispatchLock is the PostgreSQL advisory lock that makes one dispatcher
// run at a time across replicas ("verigate" in ASCII). Advisory locks are
// database-wide, so it is keyed by the schema too (lockKey): deployments,
// or parallel tests, in other schemas of the database never wait on it.
const dispatchLock = 0x7665726967617465

// lockKey is dispatchLock for the current schema, as SQL.
const lockKey = `hashtextextended(current_schema(), $1)`

// WebhookRenderer renders event e's body for endpoint ep; a nil body
// means the endpoint gets no message for it (its flavour has no
// rendering of that event).
// (An alias, so that a service's interface can name the plain func type.)
type WebhookRenderer = func(e verigate.Event, ep *verigate.WebhookEndpoint) ([]byte, error)

// Dispatch turns up to limit undispatched events, in id order, into
// messages for every enabled endpoint they match, and marks them
// dispatched, in one transaction. It returns how many events it
// dispatched and how many messages it made; on PostgreSQL it dispatches
// nothing (0, 0) while another replica's dispatcher runs.
//
// An endpoint matches an event of its own organization, or of a
// descendant when it includes children; in its mode; of a type it
// subscribes to; and, for a per-verification endpoint, about its session.
func (db *DB) Dispatch(ctx context.Context, now time.Time, limit int, render WebhookRenderer) (events, messages int, err error) {
	// Idle polls look first on a read connection: no write transaction
	// (SQLite's one writer) unless there is work.
	if none, err := db.noRows(ctx, `SELECT 1 FROM events WHERE dispatched_at IS NULL LIMIT 1`); none || err != nil {
		return 0, 0, err
	}
	err = db.tx(ctx, func(tx *sql.Tx) error {
		q := db.in(tx)
		if db.dialect == Postgres {
			var got bool
			if err := q.QueryRowContext(ctx, `SELECT pg_try_advisory_xact_lock(`+lockKey+`)`, int64(dispatchLock)).Scan(&got); err != nil || !got {
				return err
			}
		}
		evs, err := list(ctx, q, scanEvent, `SELECT `+eventColumns+` FROM events WHERE dispatched_at IS NULL ORDER BY id LIMIT $1`, limit)
		if err != nil || len(evs) == 0 {
			return err
		}
		endpoints, chains, err := db.dispatchTargets(ctx, q, evs)
		if err != nil {
			return err
		}
		seq, err := db.messageIDs(ctx, q)
		if err != nil {
			return err
		}
		var rows []pendingMessage
		for _, e := range evs {
			bodies := map[string][]byte{} // by flavour and PII: one rendering each
			for _, ep := range endpoints {
				if !matches(ep, e, chains[e.OrgID]) {
					continue
				}
				key := string(ep.Flavour) + strconv.FormatBool(ep.IncludePII)
				body, ok := bodies[key]
				if !ok {
					if body, err = render(e, ep); err != nil {
						return err
					}
					bodies[key] = body
				}
				if body == nil {
					continue
				}
				rows = append(rows, pendingMessage{id: seq.next(now), endpoint: ep.ID, event: e.ID, typ: e.Type, body: body})
			}
		}
		if err := insertMessages(ctx, q, now, rows); err != nil {
			return err
		}
		ids := make([]int64, len(evs))
		for i, e := range evs {
			ids[i] = e.ID
		}
		args := []any{ms(now)}
		query := `UPDATE events SET dispatched_at = $1 WHERE id IN ` + inList(&args, ids)
		if _, err := q.ExecContext(ctx, query, args...); err != nil {
			return err
		}
		events, messages = len(evs), len(rows)
		return nil
	})
	return events, messages, err
}

// matches reports whether endpoint ep receives event e, whose
// organization's chain (itself first, then its ancestors) is chain.
func matches(ep *verigate.WebhookEndpoint, e verigate.Event, chain []string) bool {
	if ep.Mode != e.Mode || !ep.Wants(e.Type) {
		return false
	}
	if ep.OrgID != e.OrgID && !(ep.IncludeChildren && slices.Contains(chain, ep.OrgID)) {
		return false
	}
	return ep.SessionID == 0 || (ep.OrgID == e.OrgID && e.Subject == strconv.FormatInt(ep.SessionID, 10))
}

// dispatchTargets reads the chains of the events' organizations and the
// enabled endpoints anywhere on them, by id.
func (db *DB) dispatchTargets(ctx context.Context, q queryer, evs []verigate.Event) ([]*verigate.WebhookEndpoint, map[string][]string, error) {
	var orgs []string
	for _, e := range evs {
		if !slices.Contains(orgs, e.OrgID) {
			orgs = append(orgs, e.OrgID)
		}
	}
	var args []any
	query := `SELECT o.id, p.id, g.id FROM organizations o LEFT JOIN organizations p ON p.id = o.parent_id
		LEFT JOIN organizations g ON g.id = p.parent_id WHERE o.id IN ` + inList(&args, orgs)
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, nil, err
	}
	chains := map[string][]string{}
	all := []string{}
	for rows.Next() {
		var o string
		var p, g sql.NullString
		if err := rows.Scan(&o, &p, &g); err != nil {
			rows.Close()
			return nil, nil, err
		}
		chain := []string{o}
		for _, a := range []sql.NullString{p, g} {
			if a.Valid {
				chain = append(chain, a.String)
			}
		}
		chains[o] = chain
		for _, id := range chain {
			if !slices.Contains(all, id) {
				all = append(all, id)
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(all) == 0 {
		return nil, chains, err
	}
	args = nil
	query = `SELECT ` + endpointColumns + ` FROM webhook_endpoints WHERE enabled AND org_id IN ` + inList(&args, all) + ` ORDER BY id`
	eps, err := list(ctx, q, func(r scanner) (*verigate.WebhookEndpoint, error) { return scanEndpoint(r) }, query, args...)
	return eps, chains, err
}

type pendingMessage struct {
	id, endpoint string
	event        int64
	typ          verigate.EventType
	body         []byte
	trigger      verigate.WebhookTrigger
}

// insertMessages inserts pending messages due at now, a few hundred rows
// per statement.
func insertMessages(ctx context.Context, q queryer, now time.Time, rows []pendingMessage) error {
	const chunk = 500
	for len(rows) > 0 {
		n := min(chunk, len(rows))
		args := []any{ms(now)}
		var b strings.Builder
		b.WriteString(`INSERT INTO webhook_messages (id, endpoint_id, event_id, event_type, body, status, attempts, failures,
			next_trigger, next_attempt_at, lease_until, created_at, updated_at) VALUES `)
		for i, m := range rows[:n] {
			if i > 0 {
				b.WriteString(", ")
			}
			trigger := m.trigger
			if trigger == "" {
				trigger = verigate.TriggerScheduled
			}
			var event any
			if m.event != 0 {
				event = m.event
			}
			args = append(args, m.id, m.endpoint, event, string(m.typ), m.body, string(trigger))
			k := len(args)
			p := func(j int) string { return "$" + strconv.Itoa(k-6+j) }
			b.WriteString("(" + p(1) + ", " + p(2) + ", " + p(3) + ", " + p(4) + ", " + p(5) + ", 'pending', 0, 0, " + p(6) + ", $1, NULL, $1, $1)")
		}
		if _, err := q.ExecContext(ctx, b.String(), args...); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

// InsertWebhookMessage queues a message made outside dispatch (a test
// message), after every message made so far; it sets m.ID.
func (db *DB) InsertWebhookMessage(ctx context.Context, m *verigate.WebhookMessage, ev verigate.AuditEvent) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		q := db.in(tx)
		if db.dialect == Postgres {
			// Beside the dispatcher, never in the middle of its ids.
			if _, err := q.ExecContext(ctx, `SELECT pg_advisory_xact_lock(`+lockKey+`)`, int64(dispatchLock)); err != nil {
				return err
			}
		}
		seq, err := db.messageIDs(ctx, q)
		if err != nil {
			return err
		}
		m.ID = seq.next(m.CreatedAt)
		if err := insertMessages(ctx, q, m.CreatedAt, []pendingMessage{{id: m.ID, endpoint: m.EndpointID, event: m.EventID,
			typ: m.EventType, body: m.Body, trigger: m.Trigger}}); err != nil {
			return err
		}
		m.Status, m.NextAttemptAt, m.UpdatedAt = verigate.MessagePending, m.CreatedAt, m.CreatedAt
		return insertAudit(ctx, tx, ev)
	})
}

// messageIDs returns the sequence of the next message ids: above every
// id made so far, whatever the clocks of the replicas that made them.
func (db *DB) messageIDs(ctx context.Context, q queryer) (*idSeq, error) {
	var last sql.NullString
	if err := q.QueryRowContext(ctx, `SELECT MAX(id) FROM webhook_messages`).Scan(&last); err != nil {
		return nil, err
	}
	return newIDSeq(last.String), nil
}

// idSeq makes UUIDv7 ids that only go up: a new millisecond starts from
// random bits, and ids within the last one's millisecond (or a clock that
// went back) count up from it. verigate.NewID is random within a
// millisecond, which would not keep an endpoint's messages in order.
type idSeq struct{ last [16]byte }

func newIDSeq(prev string) *idSeq {
	s := &idSeq{}
	if b, err := hex.DecodeString(strings.ReplaceAll(prev, "-", "")); err == nil && len(b) == 16 {
		copy(s.last[:], b)
	}
	return s
}

func (s *idSeq) next(now time.Time) string {
	lastMS := binary.BigEndian.Uint64(s.last[:8]) >> 16
	msNow := uint64(now.UnixMilli())
	var b [16]byte
	if msNow > lastMS {
		rand.Read(b[6:])
		binary.BigEndian.PutUint16(b[4:6], uint16(msNow))
		binary.BigEndian.PutUint32(b[0:4], uint32(msNow>>16))
		b[8] &= 0x3f
		b[8] &^= 0x20 // leave room to count up within the millisecond
	} else {
		// The 74 random bits as a counter: 12 in rand_a, 62 in rand_b.
		hi := uint64(s.last[6]&0x0f)<<8 | uint64(s.last[7])
		lo := binary.BigEndian.Uint64(s.last[8:]) & (1<<62 - 1)
		if lo++; lo == 1<<62 {
			lo = 0
			if hi++; hi == 1<<12 {
				hi = 0
				lastMS++
			}
		}
		binary.BigEndian.PutUint16(b[4:6], uint16(lastMS))
		binary.BigEndian.PutUint32(b[0:4], uint32(lastMS>>16))
		b[6], b[7] = byte(hi>>8), byte(hi)
		binary.BigEndian.PutUint64(b[8:], lo)
	}
	b[6] = 0x70 | b[6]&0x0f
	b[8] = 0x80 | b[8]&0x3f
	s.last = b
	return verigate.FormatUUIDv7(b)
}

// ClaimWebhookMessages claims, for up to maxEndpoints enabled endpoints
// whose head of queue (the lowest id pending or sending) is due at now,
// that head and the due messages right behind it, up to batch: they turn
// sending, leased until now + lease. A sending message whose lease has
// lapsed (its worker died) is due again. On PostgreSQL endpoints another
// replica is claiming are skipped (FOR UPDATE SKIP LOCKED), so replicas
// claim disjoint sets.
func (db *DB) ClaimWebhookMessages(ctx context.Context, now time.Time, lease time.Duration, maxEndpoints, batch int) ([]*verigate.WebhookBatch, error) {
	if none, err := db.noRows(ctx, `SELECT 1 FROM webhook_messages WHERE status IN ('pending', 'sending')
		AND next_attempt_at <= $1 LIMIT 1`, ms(now)); none || err != nil {
		return nil, err
	}
	var out []*verigate.WebhookBatch
	until := now.Add(lease)
	err := db.tx(ctx, func(tx *sql.Tx) error {
		out = nil
		q := db.in(tx)
		query := `SELECT ` + endpointColumns + `, secret, previous_secret, previous_until, auth_token FROM webhook_endpoints e
			WHERE enabled AND (SELECT m.next_attempt_at FROM webhook_messages m
				WHERE m.endpoint_id = e.id AND m.status IN ('pending', 'sending') ORDER BY m.id LIMIT 1) <= $1
			ORDER BY id LIMIT $2`
		if db.dialect == Postgres {
			query += ` FOR UPDATE SKIP LOCKED`
		}
		batches, err := list(ctx, q, func(r scanner) (*verigate.WebhookBatch, error) {
			b := &verigate.WebhookBatch{LeaseUntil: until}
			var prevUntil sql.NullInt64
			ep, err := scanEndpoint(r, &b.Keys.Secret, &b.Keys.Previous, &prevUntil, &b.Keys.AuthToken)
			b.Endpoint, b.Keys.PreviousUntil = ep, fromNullTime(prevUntil)
			return b, err
		}, query, ms(now), maxEndpoints)
		if err != nil {
			return err
		}
		var claimed []string
		for _, b := range batches {
			// Read again now that the endpoint is ours: the head may
			// have moved since the statement above saw it.
			msgs, err := list(ctx, q, scanMessage, `SELECT `+messageColumns+` FROM webhook_messages
				WHERE endpoint_id = $1 AND status IN ('pending', 'sending') ORDER BY id LIMIT $2`, b.Endpoint.ID, batch)
			if err != nil {
				return err
			}
			for _, m := range msgs {
				if m.NextAttemptAt.After(now) {
					break
				}
				m.Status, m.LeaseUntil, m.UpdatedAt = verigate.MessageSending, until, now
				b.Messages = append(b.Messages, m)
				claimed = append(claimed, m.ID)
			}
			if len(b.Messages) > 0 {
				out = append(out, b)
			}
		}
		if len(claimed) == 0 {
			return nil
		}
		args := []any{ms(until), ms(now)}
		query = `UPDATE webhook_messages SET status = 'sending', lease_until = $1, next_attempt_at = $1, updated_at = $2
			WHERE id IN ` + inList(&args, claimed)
		_, err = q.ExecContext(ctx, query, args...)
		return err
	})
	return out, err
}

// RecordWebhookAttempts writes what workers made of their batches, in one
// transaction: the attempts in the log, each message's new state, the
// untried ones released, the endpoints' failing time, disabling and its
// events. A message no longer held under the record's lease (another
// worker claimed it after the lease lapsed) keeps that worker's state;
// its attempt is logged all the same, for it was made.
func (db *DB) RecordWebhookAttempts(ctx context.Context, recs []verigate.WebhookRecord) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		q := db.in(tx)
		var args []any
		var rows []string
		for _, r := range recs {
			for _, a := range r.Attempts {
				at := a.Attempt
				rows = append(rows, values(&args, at.MessageID, r.EndpointID, at.N, ms(at.At), string(at.Trigger), at.StatusCode,
					at.Latency.Milliseconds(), at.Response, at.Error, nullTime(at.NextAttemptAt)))
			}
		}
		if len(rows) > 0 {
			query := `INSERT INTO webhook_attempts (message_id, endpoint_id, n, at, triggered_by, status_code, latency_ms, response,
				error, next_attempt_at) VALUES ` + strings.Join(rows, ", ")
			if _, err := q.ExecContext(ctx, query, args...); err != nil {
				return err
			}
		}
		for _, r := range recs {
			if err := db.recordBatch(ctx, q, r); err != nil {
				return err
			}
		}
		return nil
	})
}

func (db *DB) recordBatch(ctx context.Context, q queryer, r verigate.WebhookRecord) error {
	at, lease := ms(r.At), ms(r.LeaseUntil)
	var delivered []string
	for _, a := range r.Attempts {
		if a.Status == verigate.MessageDelivered {
			delivered = append(delivered, a.Attempt.MessageID)
			continue
		}
		if _, err := q.ExecContext(ctx, `UPDATE webhook_messages SET status = $1, attempts = $2, failures = $3,
			next_trigger = 'scheduled', next_attempt_at = $4, lease_until = NULL, updated_at = $5
			WHERE id = $6 AND status = 'sending' AND lease_until = $7`,
			string(a.Status), a.Attempt.N, a.Failures, nullTime(a.Attempt.NextAttemptAt), at, a.Attempt.MessageID, lease); err != nil {
			return err
		}
	}
	if len(delivered) > 0 {
		args := []any{at, lease}
		query := `UPDATE webhook_messages SET status = 'delivered', attempts = attempts + 1, failures = 0,
			next_trigger = 'scheduled', next_attempt_at = NULL, lease_until = NULL, delivered_at = $1, updated_at = $1
			WHERE status = 'sending' AND lease_until = $2 AND id IN ` + inList(&args, delivered)
		if _, err := q.ExecContext(ctx, query, args...); err != nil {
			return err
		}
	}
	if len(r.Release) > 0 {
		args := []any{at, lease}
		query := `UPDATE webhook_messages SET status = 'pending', lease_until = NULL, next_attempt_at = $1, updated_at = $1
			WHERE status = 'sending' AND lease_until = $2 AND id IN ` + inList(&args, r.Release)
		if _, err := q.ExecContext(ctx, query, args...); err != nil {
			return err
		}
	}
	var health string
	switch {
	case r.Succeeded && r.Failed:
		health = `failing_since = $1`
	case r.Failed:
		health = `failing_since = COALESCE(failing_since, $1)`
	case r.Succeeded:
		// Most batches succeed on a healthy endpoint: write nothing then.
		if _, err := q.ExecContext(ctx, `UPDATE webhook_endpoints SET failing_since = NULL
			WHERE id = $1 AND failing_since IS NOT NULL`, r.EndpointID); err != nil {
			return err
		}
	}
	if health != "" {
		if _, err := q.ExecContext(ctx, `UPDATE webhook_endpoints SET `+health+` WHERE id = $2`, at, r.EndpointID); err != nil {
			return err
		}
	}
	if r.Disable == "" {
		return nil
	}
	res, err := q.ExecContext(ctx, `UPDATE webhook_endpoints SET enabled = $1, disabled_reason = $2, updated_at = $3
		WHERE id = $4 AND enabled`, false, r.Disable, at, r.EndpointID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil // disabled already: announced then
	}
	return writeSideEffects(ctx, q, r.EndpointID, nil, r.Events)
}

// noRows reports whether a query, on a read connection, finds no row.
func (db *DB) noRows(ctx context.Context, query string, args ...any) (bool, error) {
	var one int
	err := db.read.QueryRowContext(ctx, query, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return true, nil
	}
	return false, err
}
