package access

import (
	"context"
	"slices"
	"strings"

	"github.com/verigate/verigate"
)

// UserInput describes a new user.
type UserInput struct {
	OrgKey         string
	OrgID          string // instead of OrgKey
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
	// A foreign organization answers exactly as a missing one.
	missing := verigate.Errorf(verigate.ENOTFOUND, "Account not found.")
	var org *verigate.Organization
	if in.OrgID != "" {
		org, err = s.store.GetOrganization(ctx, in.OrgID)
	} else {
		missing = verigate.Errorf(verigate.EINVALID, "Organization %q does not exist.", in.OrgKey)
		org, err = s.store.GetOrganizationByKey(ctx, in.OrgKey)
	}
	if verigate.ErrorCode(err) == verigate.ENOTFOUND {
		return nil, missing
	} else if err != nil {
		return nil, err
	}
	if err := verigate.Authorize(ctx, "users.create", verigate.Object{Org: org.ID}, ErrAccountNotFound); verigate.ErrorCode(err) == verigate.ENOTFOUND {
		return nil, missing
	} else if err != nil {
		return nil, err
	}
	roles, err := s.checkRoles(ctx, in.Roles, org.ID)
	if err != nil {
		return nil, err
	}
	hash, err := s.hash(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	now := s.now()
	u := &verigate.User{ID: verigate.NewID(), OrgID: org.ID, Email: email, Username: in.Username,
		PasswordHash: hash, ServiceAccount: in.ServiceAccount, Roles: roles,
		Status: verigate.StatusActive, CreatedAt: now, UpdatedAt: now}
	ev := s.audit(ctx, "user.create", "user", u.ID, org.ID)
	ev.Details = map[string]any{"email": email, "roles": roles, "serviceAccount": in.ServiceAccount}
	if err := s.store.CreateUser(ctx, u, ev); verigate.ErrorCode(err) == verigate.ECONFLICT {
		return nil, s.emailTaken(ctx, email)
	} else if err != nil {
		return nil, err
	}
	return u, nil
}

// emailTaken answers an email another user has. Emails are unique across
// tenants (people sign in with them alone), so the answer says so only
// when that user is in the caller's reach; otherwise it confirms nothing.
func (s *Service) emailTaken(ctx context.Context, email string) error {
	if u, err := s.store.GetUserByEmail(ctx, email); err == nil && inReach(ctx, u.OrgID) {
		return verigate.Errorf(verigate.ECONFLICT, "A user with email %q already exists.", email)
	}
	return verigate.Errorf(verigate.ECONFLICT, "This email cannot be used; choose another.")
}

// inReach reports whether the principal in ctx may act on organization id.
func inReach(ctx context.Context, id string) bool {
	return verigate.PrincipalFrom(ctx).Reaches(id)
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

// checkRoles resolves role ids for a user of organization orgID and checks
// the caller may grant everything they carry.
func (s *Service) checkRoles(ctx context.Context, ids []string, orgID string) ([]string, error) {
	if len(ids) > 20 {
		return nil, verigate.FieldError("roles", "at most 20 roles")
	}
	var roles []string
	for _, r := range ids {
		if !verigate.IsBuiltinRole(r) && !uuidLike(r) {
			return nil, verigate.FieldError("role", "unknown role "+r+"; built-in roles are owner, admin, operator, reviewer, developer, viewer")
		}
		perms, err := s.rolePermissions(ctx, r, orgID)
		if err != nil {
			return nil, err
		}
		if err := grantable(ctx, perms); err != nil {
			return nil, err
		}
		if !slices.Contains(roles, r) {
			roles = append(roles, r)
		}
	}
	return roles, nil
}

func uuidLike(s string) bool { return len(s) == 36 && strings.Count(s, "-") == 4 }

// user returns a (not deleted) user the caller may act on with perm; one
// outside its reach answers as missing.
func (s *Service) user(ctx context.Context, id string, perm verigate.Permission) (*verigate.User, error) {
	if !uuidLike(id) {
		return nil, verigate.Authorize(ctx, perm, verigate.Missing, ErrUserNotFound)
	}
	u, err := s.store.GetUser(ctx, id)
	if verigate.ErrorCode(err) == verigate.ENOTFOUND || (err == nil && u.DeletedAt != nil) {
		return nil, verigate.Authorize(ctx, perm, verigate.Missing, ErrUserNotFound)
	} else if err != nil {
		return nil, err
	}
	if err := verigate.Authorize(ctx, perm, verigate.Object{Org: u.OrgID}, ErrUserNotFound); err != nil {
		return nil, err
	}
	// Nobody manages someone who may do more than they may.
	if perm != "users.read" {
		theirs, err := s.Permissions(ctx, u)
		if err != nil {
			return nil, err
		}
		if x := verigate.PrincipalFrom(ctx).Lacks(theirs, nil); x != "" {
			return nil, verigate.Errorf(verigate.EFORBIDDEN, "This user holds %s, which you do not; you cannot manage them.", x)
		}
	}
	return u, nil
}

// User returns a user.
func (s *Service) User(ctx context.Context, id string) (*verigate.User, error) {
	return s.user(ctx, id, "users.read")
}

// UsersIn lists the users of the organizations in the caller's reach (or
// of one of them), by email.
func (s *Service) UsersIn(ctx context.Context, orgID string) ([]*verigate.User, error) {
	p := verigate.PrincipalFrom(ctx)
	if err := verigate.Authorize(ctx, "users.read", verigate.Object{}, nil); err != nil {
		return nil, err
	}
	orgs := p.Orgs
	if orgID != "" {
		if err := verigate.Authorize(ctx, "users.read", verigate.Object{Org: orgID}, ErrAccountNotFound); err != nil {
			return nil, err
		}
		orgs = []string{orgID}
	}
	out := []*verigate.User{}
	for _, o := range orgs {
		users, err := s.store.ListUsers(ctx, o)
		if err != nil {
			return nil, err
		}
		out = append(out, users...)
	}
	return out, nil
}

// UserUpdate names the profile fields to change.
type UserUpdate struct {
	Email    *string
	Username *string
}

// UpdateUser changes a user's email or username.
func (s *Service) UpdateUser(ctx context.Context, id string, in UserUpdate) (*verigate.User, error) {
	var email string
	if in.Email != nil {
		var err error
		if email, err = verigate.NormalizeEmail(*in.Email); err != nil {
			return nil, err
		}
	}
	if in.Username != nil {
		if err := verigate.ValidateUsername("username", *in.Username); err != nil {
			return nil, err
		}
	}
	u, err := s.user(ctx, id, "users.update")
	if err != nil {
		return nil, err
	}
	if in.Email != nil {
		u.Email = email
	}
	if in.Username != nil {
		u.Username = *in.Username
	}
	u.UpdatedAt = s.now()
	if err := s.store.UpdateUser(ctx, u, s.audit(ctx, "user.update", "user", u.ID, u.OrgID)); verigate.ErrorCode(err) == verigate.ECONFLICT {
		return nil, s.emailTaken(ctx, u.Email)
	} else if err != nil {
		return nil, err
	}
	return u, nil
}

// SetRoles replaces a user's roles; the caller must hold everything they
// grant.
func (s *Service) SetRoles(ctx context.Context, id string, roles []string) (*verigate.User, error) {
	if len(roles) == 0 {
		return nil, verigate.FieldError("roles", "at least one role is required")
	}
	u, err := s.user(ctx, id, "users.set-permissions")
	if err != nil {
		return nil, err
	}
	if u.Roles, err = s.checkRoles(ctx, roles, u.OrgID); err != nil {
		return nil, err
	}
	u.UpdatedAt = s.now()
	ev := s.audit(ctx, "user.set_roles", "user", u.ID, u.OrgID)
	ev.Details = map[string]any{"roles": u.Roles}
	if err := s.store.UpdateUser(ctx, u, ev); err != nil {
		return nil, err
	}
	return u, nil
}

// DisableUser disables a user: every credential of theirs (tokens,
// application tokens, SSO sessions, dashboard login tokens, API keys)
// stops working at once, since each is checked against the user on use.
func (s *Service) DisableUser(ctx context.Context, id string) (*verigate.User, error) {
	u, err := s.user(ctx, id, "users.disable")
	if err != nil {
		return nil, err
	}
	if p := verigate.PrincipalFrom(ctx); p.UserID == u.ID {
		return nil, verigate.Errorf(verigate.ECONFLICT, "You cannot disable yourself.")
	}
	u.Status, u.UpdatedAt = verigate.StatusDisabled, s.now()
	if err := s.store.UpdateUser(ctx, u, s.audit(ctx, "user.disable", "user", u.ID, u.OrgID)); err != nil {
		return nil, err
	}
	return u, nil
}

// DeleteUser deletes a user: disabled, hidden, and its email freed.
func (s *Service) DeleteUser(ctx context.Context, id string) error {
	u, err := s.user(ctx, id, "users.delete")
	if err != nil {
		return err
	}
	if p := verigate.PrincipalFrom(ctx); p.UserID == u.ID {
		return verigate.Errorf(verigate.ECONFLICT, "You cannot delete yourself.")
	}
	now := s.now()
	u.Status, u.UpdatedAt, u.DeletedAt, u.Email = verigate.StatusDisabled, now, &now, u.ID+"@deleted.invalid"
	return s.store.UpdateUser(ctx, u, s.audit(ctx, "user.delete", "user", u.ID, u.OrgID))
}
