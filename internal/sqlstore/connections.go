package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/verigate/verigate"
)

// CreateConnection inserts a connection with its first stream events.
func (db *DB) CreateConnection(ctx context.Context, c *verigate.Connection, ch verigate.ConnectionChange) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		if _, err := db.in(tx).ExecContext(ctx, `INSERT INTO connections (id, org_id, user_id, api_key_id, mode, source_id, label,
			credentials, status, connector_state, next_run_at, lease_until, failure_reason, data, step_id, session_id, version,
			created_at, updated_at, connected_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`,
			c.ID, c.OrgID, c.UserID, c.APIKeyID, string(c.Mode), c.SourceID, c.Label, c.Credentials, c.Status,
			jsonText(c.ConnectorState, "{}"), msPtr(c.NextRunAt), msPtr(c.LeaseUntil), c.FailureReason,
			jsonText(c.Data, "{}"), nullInt(c.StepID), nullSession(c.SessionID), c.Version, ms(c.CreatedAt), ms(c.UpdatedAt), msPtr(c.ConnectedAt)); err != nil {
			return err
		}
		return db.connectionSideEffects(ctx, tx, ch)
	})
}

// ApplyConnectionChange writes a ConnectionChange in one transaction.
func (db *DB) ApplyConnectionChange(ctx context.Context, ch verigate.ConnectionChange) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		c := ch.Connection
		res, err := db.in(tx).ExecContext(ctx, `UPDATE connections SET status = $1, connector_state = $2, next_run_at = $3,
			lease_until = $4, failure_reason = $5, data = $6, credentials = $7, updated_at = $8, connected_at = $9,
			version = version + 1 WHERE id = $10 AND version = $11`,
			c.Status, jsonText(c.ConnectorState, "{}"), msPtr(c.NextRunAt), msPtr(c.LeaseUntil), c.FailureReason,
			jsonText(c.Data, "{}"), c.Credentials, ms(c.UpdatedAt), msPtr(c.ConnectedAt), c.ID, c.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return verigate.Errorf(verigate.ECONFLICT, "The connection changed meanwhile; try again.")
		}
		if err := db.connectionSideEffects(ctx, tx, ch); err != nil {
			return err
		}
		c.Version++
		return nil
	})
}

func (db *DB) connectionSideEffects(ctx context.Context, tx *sql.Tx, ch verigate.ConnectionChange) error {
	q := db.in(tx)
	if r := ch.Request; r != nil {
		res, err := q.ExecContext(ctx, `UPDATE assistance_requests SET attempts = $1, status = $2, code = $3, resolved_at = $4
			WHERE id = $5`, r.Attempts, r.Status, r.Code, msPtr(r.ResolvedAt), r.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return verigate.Errorf(verigate.ENOTFOUND, "Assistance request not found.")
		}
	}
	if r := ch.NewRequest; r != nil {
		_, err := q.ExecContext(ctx, `INSERT INTO assistance_requests (id, connection_id, type, length, code_type, purpose,
			attempts, status, code, created_at, expires_at, resolved_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			r.ID, r.ConnectionID, r.Type, r.Descriptor.Length, r.Descriptor.Type, r.Descriptor.Purpose, r.Attempts, r.Status,
			r.Code, ms(r.CreatedAt), ms(r.ExpiresAt), msPtr(r.ResolvedAt))
		if isUnique(err) {
			return verigate.Errorf(verigate.ECONFLICT, "The connection already has a pending assistance request.")
		}
		if err != nil {
			return err
		}
	}
	for _, e := range ch.Stream {
		if _, err := q.ExecContext(ctx, `INSERT INTO connection_events (connection_id, type, data, created_at) VALUES ($1, $2, $3, $4)`,
			e.ConnectionID, e.Type, jsonText(e.Data, "{}"), ms(e.CreatedAt)); err != nil {
			return err
		}
	}
	return writeSideEffects(ctx, tx, ch.Connection.ID, ch.Audit, ch.Events)
}

const connectionColumns = `id, org_id, user_id, api_key_id, mode, source_id, label, credentials, status, connector_state,
	next_run_at, lease_until, failure_reason, data, step_id, session_id, version, created_at, updated_at, connected_at`

func scanConnection(r scanner) (*verigate.Connection, error) {
	var c verigate.Connection
	var mode, state, data string
	var next, lease, connected, step, session sql.NullInt64
	var created, updated int64
	if err := r.Scan(&c.ID, &c.OrgID, &c.UserID, &c.APIKeyID, &mode, &c.SourceID, &c.Label, &c.Credentials, &c.Status,
		&state, &next, &lease, &c.FailureReason, &data, &step, &session, &c.Version, &created, &updated, &connected); err != nil {
		return nil, err
	}
	c.Mode, c.ConnectorState, c.Data = verigate.Mode(mode), json.RawMessage(state), json.RawMessage(data)
	c.NextRunAt, c.LeaseUntil, c.ConnectedAt = fromNullMS(next), fromNullMS(lease), fromNullMS(connected)
	c.CreatedAt, c.UpdatedAt = fromMS(created), fromMS(updated)
	if step.Valid {
		c.StepID = &step.Int64
	}
	c.SessionID = session.Int64
	return &c, nil
}

// GetConnection returns the connection with id.
func (db *DB) GetConnection(ctx context.Context, id string) (*verigate.Connection, error) {
	c, err := scanConnection(db.read.QueryRowContext(ctx, `SELECT `+connectionColumns+` FROM connections WHERE id = $1`, id))
	return c, notFound(err, "Connection")
}

// ConnectionOrgs maps each of ids that is a connection to its
// organization; ids that are not connections are left out.
func (db *DB) ConnectionOrgs(ctx context.Context, ids []string) (map[string]string, error) {
	orgs := map[string]string{}
	if len(ids) == 0 {
		return orgs, nil
	}
	var args []any
	q := `SELECT id, org_id FROM connections WHERE id IN ` + inList(&args, ids)
	rows, err := db.adhoc.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, org string
		if err := rows.Scan(&id, &org); err != nil {
			return nil, err
		}
		orgs[id] = org
	}
	return orgs, rows.Err()
}

// ListConnections returns the connections of the given organizations in
// mode, newest first; with only, just those whose id or organization is
// in it.
func (db *DB) ListConnections(ctx context.Context, orgIDs []string, mode verigate.Mode, only []string, limit, offset int) ([]*verigate.Connection, error) {
	if len(orgIDs) == 0 {
		return nil, nil
	}
	args := []any{string(mode)}
	cond := ` WHERE mode = $1 AND org_id IN ` + inList(&args, orgIDs)
	if len(only) > 0 {
		cond += ` AND (id IN ` + inList(&args, only) + ` OR org_id IN ` + inList(&args, only) + `)`
	}
	args = append(args, limit, offset)
	return list(ctx, db.read, scanConnection, `SELECT `+connectionColumns+` FROM connections`+cond+
		` ORDER BY created_at DESC, id LIMIT $`+itoa(len(args)-1)+` OFFSET $`+itoa(len(args)), args...)
}

// DueConnections returns up to limit connections the worker should act
// on at now: due, and not leased (or with an expired lease).
func (db *DB) DueConnections(ctx context.Context, now time.Time, limit int) ([]*verigate.Connection, error) {
	return list(ctx, db.read, scanConnection, `SELECT `+connectionColumns+` FROM connections
		WHERE next_run_at IS NOT NULL AND next_run_at <= $1 AND (lease_until IS NULL OR lease_until < $1)
		ORDER BY next_run_at LIMIT $2`, ms(now), limit)
}

const requestColumns = `id, connection_id, type, length, code_type, purpose, attempts, status, code, created_at, expires_at, resolved_at`

func scanRequest(r scanner) (*verigate.AssistanceRequest, error) {
	var a verigate.AssistanceRequest
	var created, expires int64
	var resolved sql.NullInt64
	if err := r.Scan(&a.ID, &a.ConnectionID, &a.Type, &a.Descriptor.Length, &a.Descriptor.Type, &a.Descriptor.Purpose,
		&a.Attempts, &a.Status, &a.Code, &created, &expires, &resolved); err != nil {
		return nil, err
	}
	a.CreatedAt, a.ExpiresAt, a.ResolvedAt = fromMS(created), fromMS(expires), fromNullMS(resolved)
	return &a, nil
}

// pendingOnly selects pending requests. It is written out, not bound, so
// that both engines use the partial unique index assistance_one_pending
// (a bound status makes SQLite scan every pending request instead).
const pendingOnly = `status = 'pending'`

// PendingRequest returns a connection's pending assistance request, or
// ENOTFOUND.
func (db *DB) PendingRequest(ctx context.Context, connectionID string) (*verigate.AssistanceRequest, error) {
	r, err := scanRequest(db.read.QueryRowContext(ctx, `SELECT `+requestColumns+` FROM assistance_requests
		WHERE connection_id = $1 AND `+pendingOnly, connectionID))
	return r, notFound(err, "Assistance request")
}

// connectionStatusQuery reads what a status needs — the connection's
// identity, reach and state, and its pending request — and none of its
// sealed credentials, connector state or fetched data: the hot read.
var connectionStatusQuery = `SELECT c.id, c.org_id, c.mode, c.status, c.failure_reason, c.step_id, c.session_id,
	r.id, r.type, r.length, r.code_type, r.purpose, r.attempts, r.created_at, r.expires_at
	FROM connections c LEFT JOIN assistance_requests r ON r.connection_id = c.id AND r.` + pendingOnly + `
	WHERE c.id = $1`

// ConnectionStatus returns the connection with id — its identity, reach
// and state only (no credentials, connector state or data) — and its
// pending assistance request (nil when none), in one query.
func (db *DB) ConnectionStatus(ctx context.Context, id string) (*verigate.Connection, *verigate.AssistanceRequest, error) {
	var c verigate.Connection
	var mode string
	var step, session sql.NullInt64
	var r struct {
		id, typ, codeType, purpose sql.NullString
		length, attempts           sql.NullInt64
		created, expires           sql.NullInt64
	}
	err := db.read.QueryRowContext(ctx, connectionStatusQuery, id).Scan(&c.ID, &c.OrgID, &mode, &c.Status, &c.FailureReason,
		&step, &session, &r.id, &r.typ, &r.length, &r.codeType, &r.purpose, &r.attempts, &r.created, &r.expires)
	if err != nil {
		return nil, nil, notFound(err, "Connection")
	}
	c.Mode, c.SessionID = verigate.Mode(mode), session.Int64
	if step.Valid {
		c.StepID = &step.Int64
	}
	if !r.id.Valid {
		return &c, nil, nil
	}
	req := &verigate.AssistanceRequest{ID: r.id.String, ConnectionID: c.ID, Type: r.typ.String,
		Descriptor: verigate.Descriptor{Length: int(r.length.Int64), Type: r.codeType.String, Purpose: r.purpose.String},
		Attempts:   int(r.attempts.Int64), Status: verigate.AssistPending,
		CreatedAt: fromMS(r.created.Int64), ExpiresAt: fromMS(r.expires.Int64)}
	return &c, req, nil
}

// ExpiredRequests returns pending requests past their expiry.
func (db *DB) ExpiredRequests(ctx context.Context, now time.Time, limit int) ([]*verigate.AssistanceRequest, error) {
	return list(ctx, db.read, scanRequest, `SELECT `+requestColumns+` FROM assistance_requests
		WHERE status = $1 AND expires_at <= $2 ORDER BY expires_at LIMIT $3`, verigate.AssistPending, ms(now), limit)
}

// ConnectionEvents returns a connection's stream events after afterID.
func (db *DB) ConnectionEvents(ctx context.Context, connectionID string, afterID int64, limit int) ([]verigate.ConnectionEvent, error) {
	return list(ctx, db.read, func(r scanner) (verigate.ConnectionEvent, error) {
		var e verigate.ConnectionEvent
		var data string
		var created int64
		err := r.Scan(&e.ID, &e.ConnectionID, &e.Type, &data, &created)
		e.Data, e.CreatedAt = json.RawMessage(data), fromMS(created)
		return e, err
	}, `SELECT id, connection_id, type, data, created_at FROM connection_events WHERE connection_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
		connectionID, afterID, limit)
}

// nullSession stores a connection's session, 0 for none, as NULL.
func nullSession(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }
