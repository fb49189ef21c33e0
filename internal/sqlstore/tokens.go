package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/verigate/verigate"
)

func jsonList[T any](v []T) any {
	if v == nil {
		return nil
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// CreateToken inserts a user or application token.
func (db *DB) CreateToken(ctx context.Context, t *verigate.Token, ev verigate.AuditEvent) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO api_tokens (id, hash, type, user_id, org_id, application, label, mode,
			permissions, accounts, parent_id, created_at, last_used_at, expires_at, absolute_expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
			t.ID, t.Hash, t.Type, t.UserID, t.OrgID, t.Application, t.Label, string(t.Mode), jsonList(t.Permissions),
			jsonList(t.Accounts), nullString(t.ParentID), ms(t.CreatedAt), ms(t.LastUsedAt), msPtr(t.ExpiresAt),
			msPtr(t.AbsoluteExpiresAt)); err != nil {
			return err
		}
		return insertAudit(ctx, tx, ev)
	})
}

const tokenColumns = `id, hash, type, user_id, org_id, application, label, mode, permissions, accounts,
	COALESCE(parent_id, ''), created_at, last_used_at, expires_at, absolute_expires_at, revoked_at`

func scanToken(r scanner) (*verigate.Token, error) {
	var t verigate.Token
	var mode string
	var perms, accounts sql.NullString
	var created, used int64
	var expires, abs, revoked sql.NullInt64
	if err := r.Scan(&t.ID, &t.Hash, &t.Type, &t.UserID, &t.OrgID, &t.Application, &t.Label, &mode, &perms, &accounts,
		&t.ParentID, &created, &used, &expires, &abs, &revoked); err != nil {
		return nil, err
	}
	t.Mode = verigate.Mode(mode)
	if perms.Valid {
		if err := json.Unmarshal([]byte(perms.String), &t.Permissions); err != nil {
			return nil, err
		}
		if t.Permissions == nil {
			t.Permissions = []verigate.Permission{}
		}
	}
	if accounts.Valid {
		if err := json.Unmarshal([]byte(accounts.String), &t.Accounts); err != nil {
			return nil, err
		}
		if t.Accounts == nil {
			t.Accounts = []string{}
		}
	}
	t.CreatedAt, t.LastUsedAt = fromMS(created), fromMS(used)
	t.ExpiresAt, t.AbsoluteExpiresAt, t.RevokedAt = fromNullMS(expires), fromNullMS(abs), fromNullMS(revoked)
	return &t, nil
}

// GetToken returns the token with id.
func (db *DB) GetToken(ctx context.Context, id string) (*verigate.Token, error) {
	t, err := scanToken(db.read.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE id = $1`, id))
	return t, notFound(err, "Token")
}

// GetTokenByHash returns the token whose secret hashes to hash.
func (db *DB) GetTokenByHash(ctx context.Context, hash []byte) (*verigate.Token, error) {
	t, err := scanToken(db.read.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE hash = $1`, hash))
	return t, notFound(err, "Token")
}

// ListTokens returns application tokens matching f, and their total.
func (db *DB) ListTokens(ctx context.Context, f verigate.TokenFilter) ([]*verigate.Token, int, error) {
	if len(f.OrgIDs) == 0 {
		return nil, 0, nil
	}
	args := []any{verigate.TokenApplication, f.Application}
	cond := ` WHERE type = $1 AND application = $2 AND org_id IN ` + inList(&args, f.OrgIDs)
	var total int
	if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM api_tokens`+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	dir := "ASC"
	if f.SortDesc {
		dir = "DESC"
	}
	args = append(args, f.Limit, f.Skip)
	list, err := list(ctx, db.read, scanToken, `SELECT `+tokenColumns+` FROM api_tokens`+cond+
		` ORDER BY created_at `+dir+`, id `+dir+` LIMIT $`+itoa(len(args)-1)+` OFFSET $`+itoa(len(args)), args...)
	return list, total, err
}

// RevokeToken revokes a token. Revoking twice is ECONFLICT.
func (db *DB) RevokeToken(ctx context.Context, id string, ev verigate.AuditEvent) error {
	return db.revoke(ctx, "api_tokens", "Token", id, ev)
}

// SlideToken records a use of a user token and moves its idle expiry,
// at most once a minute.
func (db *DB) SlideToken(ctx context.Context, id string, at, expires time.Time) error {
	_, err := db.write.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = $1, expires_at = $2
		WHERE id = $3 AND revoked_at IS NULL AND last_used_at <= $4`, ms(at), ms(expires), id, ms(at.Add(-time.Minute)))
	return err
}

// CreateRole inserts a custom role. A name taken in the organization is ECONFLICT.
func (db *DB) CreateRole(ctx context.Context, r *verigate.Role, ev verigate.AuditEvent) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO roles (id, org_id, name, description, permissions, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, r.ID, r.OrgID, r.Name, r.Description, jsonList(r.Permissions), ms(r.CreatedAt), ms(r.UpdatedAt))
		if isUnique(err) {
			return verigate.Errorf(verigate.ECONFLICT, "A role named %q already exists.", r.Name)
		}
		if err != nil {
			return err
		}
		return insertAudit(ctx, tx, ev)
	})
}

// UpdateRole saves a role's name, description and permissions.
func (db *DB) UpdateRole(ctx context.Context, r *verigate.Role, ev verigate.AuditEvent) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE roles SET name = $1, description = $2, permissions = $3, updated_at = $4 WHERE id = $5`,
			r.Name, r.Description, jsonList(r.Permissions), ms(r.UpdatedAt), r.ID)
		if isUnique(err) {
			return verigate.Errorf(verigate.ECONFLICT, "A role named %q already exists.", r.Name)
		}
		if err != nil {
			return err
		}
		return insertAudit(ctx, tx, ev)
	})
}

// DeleteRole deletes a role no user holds (ECONFLICT otherwise).
func (db *DB) DeleteRole(ctx context.Context, id string, ev verigate.AuditEvent) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM user_roles r JOIN users u ON u.id = r.user_id
			WHERE r.role = $1 AND u.deleted_at IS NULL`, id).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return verigate.Errorf(verigate.ECONFLICT, "The role is held by %d user(s); take it from them first.", n)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM user_roles WHERE role = $1`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM roles WHERE id = $1`, id); err != nil {
			return err
		}
		return insertAudit(ctx, tx, ev)
	})
}

func scanRole(r scanner) (*verigate.Role, error) {
	var role verigate.Role
	var perms string
	var created, updated int64
	if err := r.Scan(&role.ID, &role.OrgID, &role.Name, &role.Description, &perms, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(perms), &role.Permissions); err != nil {
		return nil, err
	}
	role.CreatedAt, role.UpdatedAt = fromMS(created), fromMS(updated)
	return &role, nil
}

// GetRole returns a custom role.
func (db *DB) GetRole(ctx context.Context, id string) (*verigate.Role, error) {
	r, err := scanRole(db.read.QueryRowContext(ctx, `SELECT id, org_id, name, description, permissions, created_at, updated_at FROM roles WHERE id = $1`, id))
	return r, notFound(err, "Role")
}

// ListRoles returns the custom roles of the given organizations, by name.
func (db *DB) ListRoles(ctx context.Context, orgIDs []string) ([]*verigate.Role, error) {
	if len(orgIDs) == 0 {
		return nil, nil
	}
	var args []any
	q := `SELECT id, org_id, name, description, permissions, created_at, updated_at FROM roles
		WHERE org_id IN ` + inList(&args, orgIDs) + ` ORDER BY name, id`
	return list(ctx, db.read, scanRole, q, args...)
}
