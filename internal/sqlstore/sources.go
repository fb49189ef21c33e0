package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/verigate/verigate"
)

// UpsertVerificationTypes writes the verification types (by id).
func (db *DB) UpsertVerificationTypes(ctx context.Context, types []verigate.VerificationType) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		for _, t := range types {
			if _, err := tx.ExecContext(ctx, `INSERT INTO verification_types (id, name, description) VALUES ($1, $2, $3)
				ON CONFLICT (id) DO UPDATE SET name = $2, description = $3`, t.ID, t.Name, t.Description); err != nil {
				return err
			}
		}
		return nil
	})
}

// ListVerificationTypes returns every verification type, by id.
func (db *DB) ListVerificationTypes(ctx context.Context) ([]verigate.VerificationType, error) {
	return list(ctx, db.read, func(r scanner) (verigate.VerificationType, error) {
		var t verigate.VerificationType
		err := r.Scan(&t.ID, &t.Name, &t.Description)
		return t, err
	}, `SELECT id, name, description FROM verification_types ORDER BY id`)
}

// FirstImportedSourceID is the lowest id an imported source gets; the
// built-in catalog keeps the ids below it.
const FirstImportedSourceID = 10000

// UpsertSources writes catalog entries by source name: an existing entry
// is updated in place (keeping its id), a new one gets its ID when it has
// one, else the next id from FirstImportedSourceID. ev is written when
// the change is not a start-up sync (nil ev: no audit).
func (db *DB) UpsertSources(ctx context.Context, sources []*verigate.DataSource, ev *verigate.AuditEvent) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		for _, s := range sources {
			flow, _ := json.Marshal(s.LoginFlow)
			hashes, _ := json.Marshal(nonNil(s.ProviderHashes))
			var id int64
			err := tx.QueryRowContext(ctx, `SELECT id FROM data_sources WHERE source_name = $1`, s.SourceName).Scan(&id)
			switch {
			case err == sql.ErrNoRows:
				if s.ID == 0 {
					if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id) + 1, $1) FROM data_sources WHERE id >= $1`,
						FirstImportedSourceID).Scan(&s.ID); err != nil {
						return err
					}
				}
				_, err = tx.ExecContext(ctx, `INSERT INTO data_sources (id, source_name, name, description, logo_url, category,
					verification_type_id, kind, provider_id, login_flow, test_only, builtin, created_at, updated_at, provider_hashes)
					VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
					s.ID, s.SourceName, s.Name, s.Description, s.LogoURL, s.Category, s.VerificationTypeID, s.Kind,
					s.ProviderID, string(flow), s.TestOnly, s.Builtin, ms(s.CreatedAt), ms(s.UpdatedAt), string(hashes))
				if isUnique(err) {
					return verigate.Errorf(verigate.ECONFLICT, "Data source id %d is taken.", s.ID)
				}
			case err != nil:
				return err
			default:
				s.ID = id
				_, err = tx.ExecContext(ctx, `UPDATE data_sources SET name = $1, description = $2, logo_url = $3, category = $4,
					verification_type_id = $5, kind = $6, provider_id = $7, login_flow = $8, test_only = $9, updated_at = $10,
					builtin = $11, provider_hashes = $12 WHERE id = $13`, s.Name, s.Description, s.LogoURL, s.Category,
					s.VerificationTypeID, s.Kind, s.ProviderID, string(flow), s.TestOnly, ms(s.UpdatedAt), s.Builtin, string(hashes), id)
			}
			if err != nil {
				return err
			}
		}
		if ev != nil {
			return insertAudit(ctx, tx, *ev)
		}
		return nil
	})
}

const sourceColumns = `id, source_name, name, description, logo_url, category, verification_type_id, kind, provider_id,
	login_flow, test_only, builtin, created_at, updated_at, provider_hashes`

func scanSource(r scanner) (*verigate.DataSource, error) {
	var s verigate.DataSource
	var flow, hashes string
	var created, updated int64
	if err := r.Scan(&s.ID, &s.SourceName, &s.Name, &s.Description, &s.LogoURL, &s.Category, &s.VerificationTypeID,
		&s.Kind, &s.ProviderID, &flow, &s.TestOnly, &s.Builtin, &created, &updated, &hashes); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(hashes), &s.ProviderHashes); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(flow), &s.LoginFlow); err != nil {
		return nil, err
	}
	s.CreatedAt, s.UpdatedAt = fromMS(created), fromMS(updated)
	return &s, nil
}

// ListSources returns the whole catalog, by id.
func (db *DB) ListSources(ctx context.Context) ([]*verigate.DataSource, error) {
	return list(ctx, db.read, scanSource, `SELECT `+sourceColumns+` FROM data_sources ORDER BY id`)
}

// GetSource returns the data source with id.
func (db *DB) GetSource(ctx context.Context, id int64) (*verigate.DataSource, error) {
	src, err := scanSource(db.read.QueryRowContext(ctx, `SELECT `+sourceColumns+` FROM data_sources WHERE id = $1`, id))
	return src, notFound(err, "Data source")
}

// SourceSettings returns the enablement overrides of the given
// organizations: org id → source id → enabled.
func (db *DB) SourceSettings(ctx context.Context, orgIDs []string) (map[string]map[int64]bool, error) {
	out := map[string]map[int64]bool{}
	if len(orgIDs) == 0 {
		return out, nil
	}
	var args []any
	q := `SELECT org_id, source_id, enabled FROM source_settings WHERE org_id IN ` + inList(&args, orgIDs)
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var org string
		var src int64
		var on bool
		if err := rows.Scan(&org, &src, &on); err != nil {
			return nil, err
		}
		if out[org] == nil {
			out[org] = map[int64]bool{}
		}
		out[org][src] = on
	}
	return out, rows.Err()
}

// SetSourceEnabled records whether an organization may use a source.
func (db *DB) SetSourceEnabled(ctx context.Context, orgID string, sourceID int64, enabled bool, ev verigate.AuditEvent) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO source_settings (org_id, source_id, enabled) VALUES ($1, $2, $3)
			ON CONFLICT (org_id, source_id) DO UPDATE SET enabled = $3`, orgID, sourceID, enabled); err != nil {
			return err
		}
		return insertAudit(ctx, tx, ev)
	})
}

// SetReviewPolicy sets an organization's review policy.
func (db *DB) SetReviewPolicy(ctx context.Context, orgID, policy string, ev verigate.AuditEvent) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE organizations SET review_policy = $1 WHERE id = $2`, policy, orgID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return verigate.Errorf(verigate.ENOTFOUND, "Organization not found.")
		}
		return insertAudit(ctx, tx, ev)
	})
}

// ReviewPolicy returns an organization's review policy and number.
func (db *DB) ReviewPolicy(ctx context.Context, orgID string) (policy string, number int64, err error) {
	err = db.read.QueryRowContext(ctx, `SELECT o.review_policy, n.number FROM organizations o
		JOIN org_numbers n ON n.org_id = o.id WHERE o.id = $1`, orgID).Scan(&policy, &number)
	return policy, number, notFound(err, "Organization")
}
