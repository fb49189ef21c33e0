package sqlstore

import (
	"context"
	"database/sql"

	"github.com/verigate/verigate"
)

const orgColumns = `id, kind, key, name, COALESCE(parent_id, ''), core, status, created_at, updated_at`

func scanOrg(row scanner) (*verigate.Organization, error) {
	var o verigate.Organization
	var kind string
	var created, updated int64
	if err := row.Scan(&o.ID, &kind, &o.Key, &o.Name, &o.ParentID, &o.Core, &o.Status, &created, &updated); err != nil {
		return nil, err
	}
	o.Kind, o.CreatedAt, o.UpdatedAt = verigate.OrgKind(kind), fromMS(created), fromMS(updated)
	return &o, nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// CreateOrganization inserts o. A taken key is ECONFLICT.
func (db *DB) CreateOrganization(ctx context.Context, o *verigate.Organization, ev verigate.AuditEvent) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO organizations (id, kind, key, name, parent_id, core, status, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			o.ID, string(o.Kind), o.Key, o.Name, nullString(o.ParentID), o.Core, o.Status, ms(o.CreatedAt), ms(o.UpdatedAt))
		if isUnique(err) {
			return verigate.Errorf(verigate.ECONFLICT, "An organization with key %q already exists.", o.Key)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO org_numbers (org_id) VALUES ($1)`, o.ID); err != nil {
			return err
		}
		return insertAudit(ctx, tx, ev)
	})
}

// UpdateOrganization saves o's name, core and status.
func (db *DB) UpdateOrganization(ctx context.Context, o *verigate.Organization, ev verigate.AuditEvent) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE organizations SET name = $1, core = $2, status = $3, updated_at = $4 WHERE id = $5`,
			o.Name, o.Core, o.Status, ms(o.UpdatedAt), o.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return verigate.Errorf(verigate.ENOTFOUND, "Organization not found.")
		}
		return insertAudit(ctx, tx, ev)
	})
}

// GetOrganization returns the organization with id.
func (db *DB) GetOrganization(ctx context.Context, id string) (*verigate.Organization, error) {
	o, err := scanOrg(db.read.QueryRowContext(ctx, `SELECT `+orgColumns+` FROM organizations WHERE id = $1`, id))
	return o, notFound(err, "Organization")
}

// GetOrganizationByKey returns the organization with key.
func (db *DB) GetOrganizationByKey(ctx context.Context, key string) (*verigate.Organization, error) {
	o, err := scanOrg(db.read.QueryRowContext(ctx, `SELECT `+orgColumns+` FROM organizations WHERE key = $1`, key))
	return o, notFound(err, "Organization")
}

// ListOrganizations returns the organizations matching f, by key.
func (db *DB) ListOrganizations(ctx context.Context, f verigate.OrgFilter) ([]*verigate.Organization, error) {
	return list(ctx, db.read, scanOrg, `SELECT `+orgColumns+` FROM organizations
		WHERE ($1 = '' OR kind = $1) AND ($2 = '' OR parent_id = $2)
		AND ($3 = '' OR id = $3 OR parent_id = $3 OR parent_id IN (SELECT id FROM organizations WHERE parent_id = $3))
		ORDER BY key`, string(f.Kind), f.ParentID, f.Within)
}

// OrgReach returns an organization's id and those of all its descendants
// (the tree is at most platform → reseller → institution deep).
func (db *DB) OrgReach(ctx context.Context, id string) ([]string, error) {
	return list(ctx, db.read, func(r scanner) (string, error) {
		var s string
		return s, r.Scan(&s)
	}, `SELECT id FROM organizations WHERE id = $1 OR parent_id = $1
		OR parent_id IN (SELECT id FROM organizations WHERE parent_id = $1) ORDER BY id`, id)
}

// OrgChain returns id and its ancestors, nearest first (the tree is three
// deep: institution, reseller, platform).
func (db *DB) OrgChain(ctx context.Context, id string) ([]string, error) {
	var o string
	var p, g sql.NullString
	err := db.read.QueryRowContext(ctx, `SELECT o.id, p.id, g.id FROM organizations o
		LEFT JOIN organizations p ON p.id = o.parent_id
		LEFT JOIN organizations g ON g.id = p.parent_id
		WHERE o.id = $1`, id).Scan(&o, &p, &g)
	if err != nil {
		return nil, notFound(err, "Organization")
	}
	chain := []string{o}
	for _, a := range []sql.NullString{p, g} {
		if a.Valid {
			chain = append(chain, a.String)
		}
	}
	return chain, nil
}

// OrgChainActive reports whether an organization and its ancestors are all
// active, in one query.
func (db *DB) OrgChainActive(ctx context.Context, id string) (bool, error) {
	var n int
	err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM organizations o
		LEFT JOIN organizations p ON p.id = o.parent_id
		LEFT JOIN organizations g ON g.id = p.parent_id
		WHERE o.id = $1 AND o.status = 'active' AND (p.id IS NULL OR p.status = 'active') AND (g.id IS NULL OR g.status = 'active')`, id).Scan(&n)
	return n == 1, err
}
