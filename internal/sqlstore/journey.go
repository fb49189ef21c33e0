package sqlstore

import (
	"context"
	"database/sql"
	"strings"

	"github.com/verigate/verigate"
)

// SetJourneySettings sets an organization's journey settings.
func (db *DB) SetJourneySettings(ctx context.Context, orgID string, j verigate.JourneySettings, ev verigate.AuditEvent) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE organizations SET journey_logo_url = $1, journey_frame_ancestors = $2 WHERE id = $3`,
			j.LogoURL, strings.Join(j.FrameAncestors, " "), orgID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return verigate.Errorf(verigate.ENOTFOUND, "Organization not found.")
		}
		return insertAudit(ctx, tx, ev)
	})
}

// JourneyFacts reads, in one query, what a journey page shows of a
// session besides the session itself: its organization's name and
// journey settings, and when the applicant consented (nil before).
func (db *DB) JourneyFacts(ctx context.Context, sessionID int64) (name string, j verigate.JourneySettings, consented *verigate.JourneyConsent, err error) {
	var ancestors string
	var at sql.NullInt64
	err = db.read.QueryRowContext(ctx, `SELECT o.name, o.journey_logo_url, o.journey_frame_ancestors, c.consented_at
		FROM verification_sessions s JOIN organizations o ON o.id = s.org_id
		LEFT JOIN journey_consents c ON c.session_id = s.id WHERE s.id = $1`, sessionID).Scan(&name, &j.LogoURL, &ancestors, &at)
	if err != nil {
		return "", j, nil, notFound(err, "Session")
	}
	j.FrameAncestors = strings.Fields(ancestors)
	if at.Valid {
		consented = &verigate.JourneyConsent{SessionID: sessionID, ConsentedAt: fromMS(at.Int64)}
	}
	return name, j, consented, nil
}

// RecordConsent records an applicant's consent with its audit event; a
// second consent keeps the first one's time and writes nothing.
func (db *DB) RecordConsent(ctx context.Context, c verigate.JourneyConsent, ev verigate.AuditEvent) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO journey_consents (session_id, consented_at) VALUES ($1, $2)
			ON CONFLICT (session_id) DO NOTHING`, c.SessionID, ms(c.ConsentedAt))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return insertAudit(ctx, tx, ev)
	})
}

// RetiredLink returns the session a retired link token (by hash) was
// for; ENOTFOUND when no renewal retired it.
func (db *DB) RetiredLink(ctx context.Context, hash []byte) (int64, error) {
	var id int64
	err := db.read.QueryRowContext(ctx, `SELECT session_id FROM retired_links WHERE hash = $1`, hash).Scan(&id)
	return id, notFound(err, "Link")
}

// SetRedirectOrigins sets an organization's redirect allow-list.
func (db *DB) SetRedirectOrigins(ctx context.Context, orgID string, origins []string, ev verigate.AuditEvent) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE organizations SET redirect_origins = $1 WHERE id = $2`,
			strings.Join(origins, " "), orgID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return verigate.Errorf(verigate.ENOTFOUND, "Organization not found.")
		}
		return insertAudit(ctx, tx, ev)
	})
}

// OrgSettings reads an organization's review policy, journey settings
// and redirect allow-list.
func (db *DB) OrgSettings(ctx context.Context, orgID string) (verigate.OrgSettings, error) {
	var s verigate.OrgSettings
	var ancestors, origins string
	err := db.read.QueryRowContext(ctx, `SELECT review_policy, journey_logo_url, journey_frame_ancestors, redirect_origins
		FROM organizations WHERE id = $1`, orgID).Scan(&s.ReviewPolicy, &s.Journey.LogoURL, &ancestors, &origins)
	if err != nil {
		return s, notFound(err, "Organization")
	}
	s.Journey.FrameAncestors, s.RedirectOrigins = strings.Fields(ancestors), strings.Fields(origins)
	return s, nil
}
