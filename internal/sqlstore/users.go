package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/verigate/verigate"
)

// Roles are gathered with a subquery so one row carries one user.
const userSelect = `SELECT u.id, u.org_id, u.email, u.username, u.password_hash, u.service_account, u.status,
	u.created_at, u.updated_at, u.deleted_at, COALESCE((SELECT ` + "%s" + ` FROM user_roles r WHERE r.user_id = u.id), '')
	FROM users u `

func (db *DB) userSelect() string {
	agg := "group_concat(role, ',')"
	if db.dialect == Postgres {
		agg = "string_agg(role, ',' ORDER BY role)"
	}
	return strings.Replace(userSelect, "%s", agg, 1)
}

func scanUser(row scanner) (*verigate.User, error) {
	var u verigate.User
	var created, updated int64
	var deleted sql.NullInt64
	var roles string
	if err := row.Scan(&u.ID, &u.OrgID, &u.Email, &u.Username, &u.PasswordHash, &u.ServiceAccount, &u.Status,
		&created, &updated, &deleted, &roles); err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt, u.DeletedAt = fromMS(created), fromMS(updated), fromNullMS(deleted)
	u.Roles = []string{}
	if roles != "" {
		u.Roles = strings.Split(roles, ",")
	}
	return &u, nil
}

// CreateUser inserts u with its roles. A taken email is ECONFLICT.
func (db *DB) CreateUser(ctx context.Context, u *verigate.User, ev verigate.AuditEvent) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO users (id, org_id, email, username, password_hash, service_account, status, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			u.ID, u.OrgID, u.Email, u.Username, u.PasswordHash, u.ServiceAccount, u.Status, ms(u.CreatedAt), ms(u.UpdatedAt))
		if isUnique(err) {
			return verigate.Errorf(verigate.ECONFLICT, "A user with email %q already exists.", u.Email)
		}
		if err != nil {
			return err
		}
		for _, r := range u.Roles {
			if _, err := tx.ExecContext(ctx, `INSERT INTO user_roles (user_id, role) VALUES ($1, $2)`, u.ID, r); err != nil {
				return err
			}
		}
		return insertAudit(ctx, tx, ev)
	})
}

// GetUser returns the user with id.
func (db *DB) GetUser(ctx context.Context, id string) (*verigate.User, error) {
	u, err := scanUser(db.read.QueryRowContext(ctx, db.userSelect()+`WHERE u.id = $1`, id))
	return u, notFound(err, "User")
}

// GetUserByEmail returns the user with the normalized email.
func (db *DB) GetUserByEmail(ctx context.Context, email string) (*verigate.User, error) {
	u, err := scanUser(db.read.QueryRowContext(ctx, db.userSelect()+`WHERE u.email = $1`, email))
	return u, notFound(err, "User")
}

// ListUsers returns the (not deleted) users of an organization, by email.
func (db *DB) ListUsers(ctx context.Context, orgID string) ([]*verigate.User, error) {
	return list(ctx, db.read, scanUser, db.userSelect()+`WHERE u.org_id = $1 AND u.deleted_at IS NULL ORDER BY u.email`, orgID)
}

// UpdateUser saves a user's email, username, status and roles, and the
// deletion mark.
func (db *DB) UpdateUser(ctx context.Context, u *verigate.User, ev verigate.AuditEvent) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET email = $1, username = $2, status = $3, updated_at = $4, deleted_at = $5
			WHERE id = $6`, u.Email, u.Username, u.Status, ms(u.UpdatedAt), msPtr(u.DeletedAt), u.ID)
		if isUnique(err) {
			return verigate.Errorf(verigate.ECONFLICT, "A user with email %q already exists.", u.Email)
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return verigate.Errorf(verigate.ENOTFOUND, "User not found.")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM user_roles WHERE user_id = $1`, u.ID); err != nil {
			return err
		}
		for _, r := range u.Roles {
			if _, err := tx.ExecContext(ctx, `INSERT INTO user_roles (user_id, role) VALUES ($1, $2)`, u.ID, r); err != nil {
				return err
			}
		}
		return insertAudit(ctx, tx, ev)
	})
}

// SetPasswordHash replaces a user's password hash (a rehash on sign-in
// after the parameters changed, or a password change).
func (db *DB) SetPasswordHash(ctx context.Context, userID, hash string, ev verigate.AuditEvent) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3`,
			hash, ms(ev.At), userID); err != nil {
			return err
		}
		return insertAudit(ctx, tx, ev)
	})
}

// SigninFailures returns the consecutive failures counted against email
// and the time until which it is locked (zero when not locked).
func (db *DB) SigninFailures(ctx context.Context, email string) (failures int, lockedUntilMS int64, err error) {
	err = db.read.QueryRowContext(ctx, `SELECT failures, locked_until FROM signin_failures WHERE email = $1`, email).
		Scan(&failures, &lockedUntilMS)
	if err == sql.ErrNoRows {
		return 0, 0, nil
	}
	return failures, lockedUntilMS, err
}

// CountSigninAttempt counts one more attempt against email (before its
// password is checked, so parallel guesses cannot all slip under the
// limit), asks lock how long to lock for that count, and returns the count
// and the lock that stood before this attempt. While a lock stands the
// attempt is not counted.
func (db *DB) CountSigninAttempt(ctx context.Context, email string, lock func(failures int) (untilMS int64), at time.Time) (failures int, prevLockedUntilMS int64, err error) {
	err = db.tx(ctx, func(tx *sql.Tx) error {
		now := ms(at)
		if err := tx.QueryRowContext(ctx, `INSERT INTO signin_failures (email, failures, locked_until, updated_at)
			VALUES ($1, 1, 0, $2)
			ON CONFLICT (email) DO UPDATE SET
				failures = CASE WHEN signin_failures.locked_until > $2 THEN signin_failures.failures ELSE signin_failures.failures + 1 END,
				updated_at = $2
			RETURNING failures, locked_until`, email, now).Scan(&failures, &prevLockedUntilMS); err != nil {
			return err
		}
		// An attempt refused by a standing lock is neither counted nor
		// allowed to push the lock further out: only real checks double it.
		if prevLockedUntilMS > now {
			return nil
		}
		if until := lock(failures); until > 0 {
			_, err := tx.ExecContext(ctx, `UPDATE signin_failures SET locked_until = $1 WHERE email = $2`, until, email)
			return err
		}
		return nil
	})
	return failures, prevLockedUntilMS, err
}

// ClearSigninFailures forgets the failures counted against email.
func (db *DB) ClearSigninFailures(ctx context.Context, email string) error {
	_, err := db.write.ExecContext(ctx, `DELETE FROM signin_failures WHERE email = $1`, email)
	return err
}
