package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/verigate/verigate"
)

// Webhook endpoints, the delivery log, and the operator's actions on it
// (redeliver, replay, test). Dispatching, claiming and recording the
// worker's attempts are in webhook_queue.go.

const endpointColumns = `id, org_id, mode, url, description, event_types, include_children, include_pii, flavour,
	auth_scheme, rate_limit, session_id, enabled, disabled_reason, failing_since, created_at, updated_at`

func scanEndpoint(r scanner, extra ...any) (*verigate.WebhookEndpoint, error) {
	var e verigate.WebhookEndpoint
	var mode, types, flavour, scheme string
	var session, failing sql.NullInt64
	var created, updated int64
	dest := append([]any{&e.ID, &e.OrgID, &mode, &e.URL, &e.Description, &types, &e.IncludeChildren, &e.IncludePII, &flavour,
		&scheme, &e.RateLimit, &session, &e.Enabled, &e.DisabledReason, &failing, &created, &updated}, extra...)
	if err := r.Scan(dest...); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(types), &e.EventTypes); err != nil {
		return nil, err
	}
	e.Mode, e.Flavour, e.AuthScheme = verigate.Mode(mode), verigate.WebhookFlavour(flavour), verigate.WebhookAuthScheme(scheme)
	e.SessionID = session.Int64
	if failing.Valid {
		e.FailingSince = fromMS(failing.Int64)
	}
	e.CreatedAt, e.UpdatedAt = fromMS(created), fromMS(updated)
	return &e, nil
}

func eventTypesJSON(types []verigate.EventType) string {
	if len(types) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(types)
	return string(b)
}

// nullTime stores a zero time as NULL.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

func fromNullTime(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMS(v.Int64)
}

// nullBytes stores an empty value as NULL.
func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// CreateWebhookEndpoint inserts an endpoint with its sealed keys and its
// audit event.
func (db *DB) CreateWebhookEndpoint(ctx context.Context, e *verigate.WebhookEndpoint, keys verigate.WebhookKeys, ev verigate.AuditEvent) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		if err := db.insertWebhookEndpoint(ctx, tx, e, keys); err != nil {
			return err
		}
		return insertAudit(ctx, tx, ev)
	})
}

func (db *DB) insertWebhookEndpoint(ctx context.Context, tx *sql.Tx, e *verigate.WebhookEndpoint, keys verigate.WebhookKeys) error {
	_, err := db.in(tx).ExecContext(ctx, `INSERT INTO webhook_endpoints (id, org_id, mode, url, description, event_types,
		include_children, include_pii, flavour, auth_scheme, auth_token, secret, previous_secret, previous_until, rate_limit,
		session_id, enabled, disabled_reason, failing_since, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)`,
		e.ID, e.OrgID, string(e.Mode), e.URL, e.Description, eventTypesJSON(e.EventTypes), e.IncludeChildren, e.IncludePII,
		string(e.Flavour), string(e.AuthScheme), nullBytes(keys.AuthToken), keys.Secret, nullBytes(keys.Previous),
		nullTime(keys.PreviousUntil), e.RateLimit, nullSession(e.SessionID), e.Enabled, e.DisabledReason,
		nullTime(e.FailingSince), ms(e.CreatedAt), ms(e.UpdatedAt))
	return err
}

// GetWebhookEndpoint returns the endpoint with id (without its keys).
func (db *DB) GetWebhookEndpoint(ctx context.Context, id string) (*verigate.WebhookEndpoint, error) {
	e, err := scanEndpoint(db.read.QueryRowContext(ctx, `SELECT `+endpointColumns+` FROM webhook_endpoints WHERE id = $1`, id))
	return e, notFound(err, "Webhook endpoint")
}

// WebhookEndpointKeys returns an endpoint's sealed keys.
func (db *DB) WebhookEndpointKeys(ctx context.Context, id string) (verigate.WebhookKeys, error) {
	var k verigate.WebhookKeys
	var until sql.NullInt64
	err := db.read.QueryRowContext(ctx, `SELECT secret, previous_secret, previous_until, auth_token FROM webhook_endpoints
		WHERE id = $1`, id).Scan(&k.Secret, &k.Previous, &until, &k.AuthToken)
	k.PreviousUntil = fromNullTime(until)
	return k, notFound(err, "Webhook endpoint")
}

// ListWebhookEndpoints returns a page of the endpoints matching f, by id;
// per-verification endpoints are left out.
func (db *DB) ListWebhookEndpoints(ctx context.Context, f verigate.WebhookEndpointFilter) ([]*verigate.WebhookEndpoint, error) {
	if len(f.OrgIDs) == 0 {
		return nil, nil
	}
	args := []any{string(f.Mode), f.After}
	cond := ` WHERE mode = $1 AND id > $2 AND session_id IS NULL AND org_id IN ` + inList(&args, f.OrgIDs)
	args = append(args, f.Limit)
	return list(ctx, db.adhoc, func(r scanner) (*verigate.WebhookEndpoint, error) { return scanEndpoint(r) },
		`SELECT `+endpointColumns+` FROM webhook_endpoints`+cond+` ORDER BY id LIMIT $`+itoa(len(args)), args...)
}

// UpdateWebhookEndpoint saves e's settings (and keys, when not nil) with
// its audit event. Re-enabling an endpoint clears its failing time.
func (db *DB) UpdateWebhookEndpoint(ctx context.Context, e *verigate.WebhookEndpoint, keys *verigate.WebhookKeys, ev verigate.AuditEvent) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		q := db.in(tx)
		res, err := q.ExecContext(ctx, `UPDATE webhook_endpoints SET url = $1, description = $2, event_types = $3,
			include_children = $4, include_pii = $5, flavour = $6, auth_scheme = $7, rate_limit = $8, enabled = $9,
			disabled_reason = $10, failing_since = $11, updated_at = $12 WHERE id = $13`,
			e.URL, e.Description, eventTypesJSON(e.EventTypes), e.IncludeChildren, e.IncludePII, string(e.Flavour),
			string(e.AuthScheme), e.RateLimit, e.Enabled, e.DisabledReason, nullTime(e.FailingSince), ms(e.UpdatedAt), e.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return verigate.Errorf(verigate.ENOTFOUND, "Webhook endpoint not found.")
		}
		if keys != nil {
			if _, err := q.ExecContext(ctx, `UPDATE webhook_endpoints SET secret = $1, previous_secret = $2, previous_until = $3,
				auth_token = $4 WHERE id = $5`, keys.Secret, nullBytes(keys.Previous), nullTime(keys.PreviousUntil),
				nullBytes(keys.AuthToken), e.ID); err != nil {
				return err
			}
		}
		return insertAudit(ctx, tx, ev)
	})
}

// DeleteWebhookEndpoint deletes an endpoint with its messages and their
// attempts.
func (db *DB) DeleteWebhookEndpoint(ctx context.Context, id string, ev verigate.AuditEvent) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		q := db.in(tx)
		// Attempts and messages go first: the cascade would do it, but
		// explicit deletes keep SQLite on its indexes.
		if _, err := q.ExecContext(ctx, `DELETE FROM webhook_attempts WHERE message_id IN
			(SELECT id FROM webhook_messages WHERE endpoint_id = $1)`, id); err != nil {
			return err
		}
		if _, err := q.ExecContext(ctx, `DELETE FROM webhook_messages WHERE endpoint_id = $1`, id); err != nil {
			return err
		}
		res, err := q.ExecContext(ctx, `DELETE FROM webhook_endpoints WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return verigate.Errorf(verigate.ENOTFOUND, "Webhook endpoint not found.")
		}
		return insertAudit(ctx, tx, ev)
	})
}

const messageColumns = `id, endpoint_id, event_id, event_type, body, status, attempts, failures, next_trigger,
	next_attempt_at, lease_until, created_at, updated_at, delivered_at`

func scanMessage(r scanner) (*verigate.WebhookMessage, error) {
	var m verigate.WebhookMessage
	var event, next, lease, delivered sql.NullInt64
	var typ, status, trigger string
	var body []byte
	var created, updated int64
	if err := r.Scan(&m.ID, &m.EndpointID, &event, &typ, &body, &status, &m.Attempts, &m.Failures, &trigger,
		&next, &lease, &created, &updated, &delivered); err != nil {
		return nil, err
	}
	m.EventID, m.EventType, m.Body = event.Int64, verigate.EventType(typ), json.RawMessage(body)
	m.Status, m.Trigger = verigate.WebhookMessageStatus(status), verigate.WebhookTrigger(trigger)
	m.NextAttemptAt, m.LeaseUntil, m.DeliveredAt = fromNullTime(next), fromNullTime(lease), fromNullTime(delivered)
	m.CreatedAt, m.UpdatedAt = fromMS(created), fromMS(updated)
	return &m, nil
}

// GetWebhookMessage returns the message with id.
func (db *DB) GetWebhookMessage(ctx context.Context, id string) (*verigate.WebhookMessage, error) {
	m, err := scanMessage(db.read.QueryRowContext(ctx, `SELECT `+messageColumns+` FROM webhook_messages WHERE id = $1`, id))
	return m, notFound(err, "Webhook message")
}

// ListWebhookMessages returns a page of an endpoint's messages matching f,
// newest first.
func (db *DB) ListWebhookMessages(ctx context.Context, f verigate.WebhookMessageFilter) ([]*verigate.WebhookMessage, error) {
	args := []any{f.EndpointID}
	cond := ` WHERE endpoint_id = $1`
	add := func(clause string, v any) {
		args = append(args, v)
		cond += ` AND ` + clause + ` $` + itoa(len(args))
	}
	if f.Status != "" {
		add(`status =`, string(f.Status))
	}
	if f.EventType != "" {
		add(`event_type =`, string(f.EventType))
	}
	if !f.Since.IsZero() {
		add(`created_at >=`, ms(f.Since))
	}
	if !f.Until.IsZero() {
		add(`created_at <`, ms(f.Until))
	}
	if f.Before != "" {
		add(`id <`, f.Before)
	}
	args = append(args, f.Limit)
	return list(ctx, db.adhoc, scanMessage, `SELECT `+messageColumns+` FROM webhook_messages`+cond+
		` ORDER BY id DESC LIMIT $`+itoa(len(args)), args...)
}

// ListWebhookAttempts returns a message's attempts, in order.
func (db *DB) ListWebhookAttempts(ctx context.Context, messageID string) ([]verigate.WebhookAttempt, error) {
	return list(ctx, db.read, func(r scanner) (verigate.WebhookAttempt, error) {
		var a verigate.WebhookAttempt
		var at, latency int64
		var next sql.NullInt64
		var trigger string
		err := r.Scan(&a.ID, &a.MessageID, &a.EndpointID, &a.N, &at, &trigger, &a.StatusCode, &latency, &a.Response, &a.Error, &next)
		a.At, a.Trigger, a.Latency, a.NextAttemptAt = fromMS(at), verigate.WebhookTrigger(trigger), time.Duration(latency)*time.Millisecond, fromNullTime(next)
		return a, err
	}, `SELECT id, message_id, endpoint_id, n, at, triggered_by, status_code, latency_ms, response, error, next_attempt_at
		FROM webhook_attempts WHERE message_id = $1 ORDER BY id`, messageID)
}

// RedeliverWebhookMessage queues a message that is not already queued for
// one more attempt now, on a fresh retry schedule.
func (db *DB) RedeliverWebhookMessage(ctx context.Context, id string, now time.Time, ev verigate.AuditEvent) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		res, err := db.in(tx).ExecContext(ctx, `UPDATE webhook_messages SET status = 'pending', failures = 0,
			next_trigger = 'redeliver', next_attempt_at = $1, lease_until = NULL, updated_at = $1
			WHERE id = $2 AND status IN ('delivered', 'failed', 'aborted')`, ms(now), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return verigate.Errorf(verigate.ECONFLICT, "The message is already queued for delivery.")
		}
		return insertAudit(ctx, tx, ev)
	})
}

// ReplayWebhookMessages queues again an endpoint's messages created since
// a time that are not queued — only the failed (and aborted) ones when
// onlyFailed — each for one more attempt on a fresh schedule, in their
// order. It returns how many it queued.
func (db *DB) ReplayWebhookMessages(ctx context.Context, endpointID string, since time.Time, onlyFailed bool, now time.Time, ev verigate.AuditEvent) (int, error) {
	statuses := `('delivered', 'failed', 'aborted')`
	if onlyFailed {
		statuses = `('failed', 'aborted')`
	}
	var n int64
	err := db.tx(ctx, func(tx *sql.Tx) error {
		res, err := db.in(tx).ExecContext(ctx, `UPDATE webhook_messages SET status = 'pending', failures = 0,
			next_trigger = 'replay', next_attempt_at = $1, lease_until = NULL, updated_at = $1
			WHERE endpoint_id = $2 AND created_at >= $3 AND status IN `+statuses, ms(now), endpointID, ms(since))
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		if ev.Details == nil {
			ev.Details = map[string]any{}
		}
		ev.Details["messages"] = n
		return insertAudit(ctx, tx, ev)
	})
	return int(n), err
}

// PruneEvents deletes the events created before olderThan with their
// messages and attempts, and test messages as old; it returns how many
// events it deleted.
func (db *DB) PruneEvents(ctx context.Context, olderThan time.Time) (int, error) {
	var n int64
	err := db.tx(ctx, func(tx *sql.Tx) error {
		q := db.in(tx)
		cut := ms(olderThan)
		for _, query := range []string{
			`DELETE FROM webhook_attempts WHERE message_id IN (SELECT id FROM webhook_messages WHERE created_at < $1)`,
			`DELETE FROM webhook_messages WHERE created_at < $1`,
			// A message is made after its event: any left of an old
			// event are newer (a late dispatch) and go with it.
			`DELETE FROM webhook_attempts WHERE message_id IN (SELECT m.id FROM webhook_messages m JOIN events e ON e.id = m.event_id WHERE e.created_at < $1)`,
			`DELETE FROM webhook_messages WHERE event_id IN (SELECT id FROM events WHERE created_at < $1)`,
		} {
			if _, err := q.ExecContext(ctx, query, cut); err != nil {
				return err
			}
		}
		res, err := q.ExecContext(ctx, `DELETE FROM events WHERE created_at < $1`, cut)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return int(n), err
}

// WebhookQueueStats measures the delivery queue.
func (db *DB) WebhookQueueStats(ctx context.Context) (verigate.WebhookQueueStats, error) {
	var s verigate.WebhookQueueStats
	var oldest sql.NullInt64
	err := db.read.QueryRowContext(ctx, `SELECT COUNT(*), MIN(created_at) FROM webhook_messages
		WHERE status IN ('pending', 'sending')`).Scan(&s.Depth, &oldest)
	s.OldestPending = fromNullTime(oldest)
	return s, err
}
