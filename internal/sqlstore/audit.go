package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/verigate/verigate"
)

func insertAudit(ctx context.Context, q queryer, ev verigate.AuditEvent) error {
	details := []byte("{}")
	if len(ev.Details) > 0 {
		var err error
		if details, err = json.Marshal(ev.Details); err != nil {
			return err
		}
	}
	_, err := q.ExecContext(ctx, `INSERT INTO audit_events
		(at, actor_kind, actor_id, requested_by, action, target_kind, target_id, org_id, request_id, outcome, details)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		ms(ev.At), string(ev.ActorKind), ev.ActorID, ev.RequestedBy, ev.Action, ev.TargetKind, ev.TargetID,
		ev.OrgID, ev.RequestID, ev.Outcome, string(details))
	return err
}

// RecordAudit writes an audit event on its own, for outcomes that change
// nothing else (a refused sign-in, a denied request).
func (db *DB) RecordAudit(ctx context.Context, ev verigate.AuditEvent) error {
	return db.tx(ctx, func(tx *sql.Tx) error { return insertAudit(ctx, tx, ev) })
}

// ListAuditEvents returns events matching f, newest first.
func (db *DB) ListAuditEvents(ctx context.Context, f verigate.AuditFilter) ([]verigate.AuditEvent, error) {
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	var since, until int64
	if !f.Since.IsZero() {
		since = ms(f.Since)
	}
	if !f.Until.IsZero() {
		until = ms(f.Until)
	}
	rows, err := db.read.QueryContext(ctx, `SELECT id, at, actor_kind, actor_id, requested_by, action, target_kind,
		target_id, org_id, request_id, outcome, details FROM audit_events
		WHERE ($1 = '' OR org_id = $1) AND ($2 = '' OR action = $2) AND ($3 = '' OR target_id = $3)
		AND ($5 = '' OR actor_id = $5 OR requested_by = $5) AND (CAST($6 AS BIGINT) = 0 OR at >= $6) AND (CAST($7 AS BIGINT) = 0 OR at < $7)
		AND (CAST($8 AS BIGINT) = 0 OR id < $8)
		ORDER BY id DESC LIMIT $4`, f.OrgID, f.Action, f.TargetID, limit, f.ActorID, since, until, f.Before)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []verigate.AuditEvent
	for rows.Next() {
		var ev verigate.AuditEvent
		var at int64
		var kind, details string
		if err := rows.Scan(&ev.ID, &at, &kind, &ev.ActorID, &ev.RequestedBy, &ev.Action, &ev.TargetKind,
			&ev.TargetID, &ev.OrgID, &ev.RequestID, &ev.Outcome, &details); err != nil {
			return nil, err
		}
		ev.At, ev.ActorKind = fromMS(at), verigate.PrincipalKind(kind)
		if details != "{}" {
			if err := json.Unmarshal([]byte(details), &ev.Details); err != nil {
				return nil, err
			}
		}
		out = append(out, ev)
	}
	return out, rows.Err()
}
