package access

import (
	"context"
	"slices"

	"github.com/verigate/verigate"
)

// UserInput describes a new user.
type UserInput struct {
	OrgKey         string
	Email          string
	Username       string
	Password       string
	Roles          []string
	ServiceAccount bool
}

// CreateUser creates a user (or a service account) in an organization.
func (s *Service) CreateUser(ctx context.Context, in UserInput) (*verigate.User, error) {
	email, err := verigate.NormalizeEmail(in.Email)
	if err != nil {
		return nil, err
	}
	if err := verigate.ValidateUsername("username", in.Username); err != nil {
		return nil, err
	}
	if err := verigate.ValidatePassword(in.Password); err != nil {
		return nil, err
	}
	if len(in.Roles) == 0 {
		return nil, verigate.FieldError("role", "at least one role is required")
	}
	var roles []string
	for _, r := range in.Roles {
		if !verigate.IsBuiltinRole(r) {
			return nil, verigate.FieldError("role", "unknown role "+r+"; built-in roles are owner, admin, operator, reviewer, developer, viewer")
		}
		if !slices.Contains(roles, r) {
			roles = append(roles, r)
		}
	}
	org, err := s.store.GetOrganizationByKey(ctx, in.OrgKey)
	if verigate.ErrorCode(err) == verigate.ENOTFOUND {
		return nil, verigate.Errorf(verigate.EINVALID, "Organization %q does not exist.", in.OrgKey)
	} else if err != nil {
		return nil, err
	}
	if err := authorize(ctx, "users.create", org, "Organization"); err != nil {
		return nil, err
	}
	// A creator never grants more than it holds.
	if p := verigate.PrincipalFrom(ctx); p.Kind != verigate.PrincipalSystem {
		for _, r := range roles {
			for _, perm := range verigate.RolePermissions(r) {
				if !slices.Contains(p.Permissions, perm) {
					return nil, verigate.Errorf(verigate.EFORBIDDEN, "Role %s grants %s, which you do not hold.", r, perm)
				}
			}
		}
	}
	now := s.now()
	u := &verigate.User{ID: verigate.NewID(), OrgID: org.ID, Email: email, Username: in.Username,
		PasswordHash: hashPassword(in.Password, s.Argon2), ServiceAccount: in.ServiceAccount, Roles: roles,
		Status: verigate.StatusActive, CreatedAt: now, UpdatedAt: now}
	ev := s.audit(ctx, "user.create", "user", u.ID, org.ID)
	ev.Details = map[string]any{"email": email, "roles": roles, "serviceAccount": in.ServiceAccount}
	if err := s.store.CreateUser(ctx, u, ev); err != nil {
		return nil, err
	}
	return u, nil
}

// UserPermissions returns the union of a user's role permissions.
func UserPermissions(u *verigate.User) []verigate.Permission {
	var out []verigate.Permission
	for _, r := range u.Roles {
		for _, p := range verigate.RolePermissions(r) {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// userActive reports whether u and its organization chain are active.
func (s *Service) userActive(ctx context.Context, u *verigate.User) (bool, error) {
	if u.Status != verigate.StatusActive {
		return false, nil
	}
	return s.orgActive(ctx, u.OrgID)
}

// ListUsers returns the users of an organization.
func (s *Service) ListUsers(ctx context.Context, orgKey string) ([]*verigate.User, error) {
	org, err := s.orgFor(ctx, orgKey, "users.read")
	if err != nil {
		return nil, err
	}
	users, err := s.store.ListUsers(ctx, org.ID)
	if users == nil && err == nil {
		users = []*verigate.User{}
	}
	return users, err
}
