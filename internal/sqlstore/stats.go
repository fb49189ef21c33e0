package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/verigate/verigate"
)

// The dashboard's aggregates: each one query, on both engines (integer
// arithmetic on the millisecond timestamps, window functions, no
// dialect's date functions).

const dayMS = int64(24 * time.Hour / time.Millisecond)

// statsCond is the WHERE of the sessions a StatsFilter selects (alias s).
func statsCond(args *[]any, f verigate.StatsFilter) string {
	cond := ` WHERE s.org_id IN ` + inList(args, f.OrgIDs)
	*args = append(*args, string(f.Mode), ms(f.From), ms(f.To))
	n := len(*args)
	return cond + ` AND s.mode = $` + itoa(n-2) + ` AND s.created_at >= $` + itoa(n-1) + ` AND s.created_at < $` + itoa(n)
}

// VerificationsPerDay counts the sessions f selects by the UTC day they
// were created and their status now, in day then status order.
func (db *DB) VerificationsPerDay(ctx context.Context, f verigate.StatsFilter) ([]verigate.DayStatusCount, error) {
	if len(f.OrgIDs) == 0 {
		return nil, nil
	}
	var args []any
	cond := statsCond(&args, f)
	query := `SELECT s.created_at / ` + itoa(int(dayMS)) + ` AS day, s.status, COUNT(*) FROM verification_sessions s` + cond +
		` GROUP BY s.created_at / ` + itoa(int(dayMS)) + `, s.status ORDER BY day, s.status`
	return list(ctx, db.adhoc, func(r scanner) (verigate.DayStatusCount, error) {
		var c verigate.DayStatusCount
		var day int64
		var status string
		err := r.Scan(&day, &status, &c.Count)
		c.Day, c.Status = fromMS(day*dayMS), verigate.SessionStatus(status)
		return c, err
	}, query, args...)
}

// VerificationFunnel counts the sessions f selects by the furthest stage
// of the journey each reached.
func (db *DB) VerificationFunnel(ctx context.Context, f verigate.StatsFilter) (verigate.FunnelCounts, error) {
	var out verigate.FunnelCounts
	if len(f.OrgIDs) == 0 {
		return out, nil
	}
	args := []any{string(verigate.SessionCompleted)}
	submitted := inList(&args, []verigate.StepStatus{verigate.StepInProgress, verigate.StepVerified, verigate.StepCompleted, verigate.StepFailed})
	cond := statsCond(&args, f)
	// The furthest stage of each session, 0 (created) to 5 (completed).
	query := `SELECT stage, COUNT(*) FROM (SELECT CASE
		WHEN s.status = $1 THEN 5
		WHEN EXISTS (SELECT 1 FROM verification_steps st WHERE st.session_id = s.id AND st.status IN ` + submitted + `) THEN 4
		WHEN EXISTS (SELECT 1 FROM verification_steps st WHERE st.session_id = s.id) THEN 3
		WHEN EXISTS (SELECT 1 FROM journey_consents jc WHERE jc.session_id = s.id) THEN 2
		WHEN s.opened_at IS NOT NULL THEN 1
		ELSE 0 END AS stage FROM verification_sessions s` + cond + `) f GROUP BY stage`
	rows, err := db.adhoc.QueryContext(ctx, query, args...)
	if err != nil {
		return out, err
	}
	defer rows.Close()
	for rows.Next() {
		var stage, n int
		if err := rows.Scan(&stage, &n); err != nil {
			return out, err
		}
		out.Created += n
		for k, c := range []*int{&out.Opened, &out.Consented, &out.SourceChosen, &out.Submitted, &out.Completed} {
			if stage > k {
				*c += n
			}
		}
	}
	return out, rows.Err()
}

// WebhookAttemptStats sums up the delivery attempts made in [from, to)
// to the endpoints of orgIDs in mode.
func (db *DB) WebhookAttemptStats(ctx context.Context, orgIDs []string, mode verigate.Mode, from, to time.Time) (verigate.WebhookStats, error) {
	var out verigate.WebhookStats
	if len(orgIDs) == 0 {
		return out, nil
	}
	var args []any
	orgs := inList(&args, orgIDs)
	args = append(args, string(mode), ms(from), ms(to))
	n := len(args)
	// Nearest rank: the smallest latency whose rank r has r/n >= p.
	query := `WITH a AS (SELECT wa.latency_ms, wa.status_code, wa.error FROM webhook_attempts wa
			JOIN webhook_endpoints e ON e.id = wa.endpoint_id
			WHERE e.org_id IN ` + orgs + ` AND e.mode = $` + itoa(n-2) + ` AND wa.at >= $` + itoa(n-1) + ` AND wa.at < $` + itoa(n) + `),
		r AS (SELECT latency_ms, ROW_NUMBER() OVER (ORDER BY latency_ms) AS rn, COUNT(*) OVER () AS n FROM a)
		SELECT (SELECT COUNT(*) FROM a),
			(SELECT COUNT(*) FROM a WHERE status_code >= 200 AND status_code < 300 AND error = ''),
			(SELECT MIN(latency_ms) FROM r WHERE rn * 100 >= n * 50),
			(SELECT MIN(latency_ms) FROM r WHERE rn * 100 >= n * 95)`
	var p50, p95 sql.NullInt64
	if err := db.adhoc.QueryRowContext(ctx, query, args...).Scan(&out.Attempts, &out.Succeeded, &p50, &p95); err != nil {
		return out, err
	}
	out.P50, out.P95 = time.Duration(p50.Int64)*time.Millisecond, time.Duration(p95.Int64)*time.Millisecond
	return out, nil
}

// CallQueueCounts counts the calls waiting (queued, assigned) at each
// institution of orgIDs, by name, institutions with none included.
func (db *DB) CallQueueCounts(ctx context.Context, orgIDs []string) ([]verigate.CallQueueCount, error) {
	if len(orgIDs) == 0 {
		return nil, nil
	}
	args := []any{string(verigate.CallQueued), string(verigate.CallAssigned), string(verigate.OrgInstitution)}
	query := `SELECT o.id, o.name,
			COALESCE(SUM(CASE WHEN c.status = $1 THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN c.status = $2 THEN 1 ELSE 0 END), 0)
		FROM organizations o LEFT JOIN phone_calls c ON c.institution_id = o.id AND c.status IN ($1, $2)
		WHERE o.kind = $3 AND o.id IN ` + inList(&args, orgIDs) + ` GROUP BY o.id, o.name ORDER BY o.name, o.id`
	return list(ctx, db.adhoc, func(r scanner) (verigate.CallQueueCount, error) {
		var c verigate.CallQueueCount
		return c, r.Scan(&c.InstitutionID, &c.InstitutionName, &c.Queued, &c.Assigned)
	}, query, args...)
}

// SubjectWebhookMessages lists the messages, newest first, of the events
// of organization eventOrg about subject sent to the endpoints of orgIDs
// in mode.
func (db *DB) SubjectWebhookMessages(ctx context.Context, orgIDs []string, mode verigate.Mode, eventOrg, subject string, limit int) ([]*verigate.WebhookMessage, error) {
	if len(orgIDs) == 0 {
		return nil, nil
	}
	var args []any
	orgs := inList(&args, orgIDs)
	args = append(args, string(mode), eventOrg, subject, limit)
	query := `SELECT ` + messageColumns + ` FROM webhook_messages WHERE id IN (SELECT m.id FROM webhook_messages m
		JOIN webhook_endpoints e ON e.id = m.endpoint_id JOIN events ev ON ev.id = m.event_id
		WHERE e.org_id IN ` + orgs + ` AND e.mode = $` + itoa(len(args)-3) + ` AND ev.org_id = $` + itoa(len(args)-2) +
		` AND ev.subject = $` + itoa(len(args)-1) + `) ORDER BY id DESC LIMIT $` + itoa(len(args))
	return list(ctx, db.adhoc, scanMessage, query, args...)
}
