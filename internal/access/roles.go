package access

import (
	"context"
	"slices"
	"strings"

	"github.com/verigate/verigate"
)

// RoleStore is the part of the store roles need.
type RoleStore interface {
	CreateRole(ctx context.Context, r *verigate.Role, ev verigate.AuditEvent) error
	UpdateRole(ctx context.Context, r *verigate.Role, ev verigate.AuditEvent) error
	DeleteRole(ctx context.Context, id string, ev verigate.AuditEvent) error
	GetRole(ctx context.Context, id string) (*verigate.Role, error)
	ListRoles(ctx context.Context, orgIDs []string) ([]*verigate.Role, error)
}

// Permissions returns what a user may do: the union of its roles'
// permissions, built-in and custom, as they are now.
func (s *Service) Permissions(ctx context.Context, u *verigate.User) ([]verigate.Permission, error) {
	var out []verigate.Permission
	add := func(ps []verigate.Permission) {
		for _, p := range ps {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	for _, r := range u.Roles {
		if verigate.IsBuiltinRole(r) {
			add(verigate.RolePermissions(r))
			continue
		}
		role, err := s.store.GetRole(ctx, r)
		if verigate.ErrorCode(err) == verigate.ENOTFOUND {
			continue // deleted meanwhile
		} else if err != nil {
			return nil, err
		}
		add(role.Permissions)
	}
	return out, nil
}

// builtinRole describes a built-in role as a Role.
func builtinRole(name string) *verigate.Role {
	return &verigate.Role{ID: name, Name: name, Permissions: verigate.RolePermissions(name), Builtin: true,
		Description: "Built-in role " + name + "."}
}

// rolePermissions resolves a role id (a built-in name or a custom role of
// the organization orgID or an ancestor) to its permissions.
func (s *Service) rolePermissions(ctx context.Context, id, orgID string) ([]verigate.Permission, error) {
	if verigate.IsBuiltinRole(id) {
		return verigate.RolePermissions(id), nil
	}
	r, err := s.store.GetRole(ctx, id)
	if verigate.ErrorCode(err) == verigate.ENOTFOUND {
		return nil, verigate.FieldError("roles", "unknown role "+id)
	} else if err != nil {
		return nil, err
	}
	// A custom role serves its organization and everything below it; any
	// other answers as unknown, so that tenants cannot probe each other.
	reach, err := s.reach(ctx, r.OrgID)
	if err != nil {
		return nil, err
	}
	if slices.Contains(reach, orgID) {
		return r.Permissions, nil
	}
	return nil, verigate.FieldError("roles", "unknown role "+id)
}

// grantable checks the principal in ctx holds every permission it would
// grant. A foreign permission grants nothing, so anyone may name it.
func grantable(ctx context.Context, perms []verigate.Permission) error {
	if x := verigate.PrincipalFrom(ctx).Lacks(perms, nil); x != "" {
		return verigate.Errorf(verigate.EFORBIDDEN, "You cannot grant %s, which you do not hold.", x)
	}
	return nil
}

// validPermissions checks and deduplicates permission names; foreign
// says whether ExactPay's names Verigate has no resource for are accepted
// (application tokens accept them; roles do not).
func validPermissions(field string, perms []verigate.Permission, foreign bool) ([]verigate.Permission, error) {
	var out []verigate.Permission
	for _, p := range perms {
		if !verigate.IsPermission(p) && !(foreign && verigate.IsForeignPermission(p)) {
			return nil, verigate.FieldError(field, "unknown permission "+string(p))
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	if out == nil {
		out = []verigate.Permission{}
	}
	return out, nil
}

// Roles lists the built-in roles and the custom roles the caller can see.
func (s *Service) Roles(ctx context.Context) ([]*verigate.Role, error) {
	p := verigate.PrincipalFrom(ctx)
	if err := verigate.Authorize(ctx, "roles.read", verigate.Object{}, nil); err != nil {
		return nil, err
	}
	var out []*verigate.Role
	for _, name := range verigate.BuiltinRoles {
		out = append(out, builtinRole(name))
	}
	orgs := p.Orgs
	if p.Kind == verigate.PrincipalSystem {
		all, err := s.store.ListOrganizations(ctx, verigate.OrgFilter{})
		if err != nil {
			return nil, err
		}
		for _, o := range all {
			orgs = append(orgs, o.ID)
		}
	}
	custom, err := s.store.ListRoles(ctx, orgs)
	return append(out, custom...), err
}

// Role returns one role, built-in or custom.
func (s *Service) Role(ctx context.Context, id string) (*verigate.Role, error) {
	if verigate.IsBuiltinRole(id) {
		if err := verigate.Authorize(ctx, "roles.read", verigate.Object{}, nil); err != nil {
			return nil, err
		}
		return builtinRole(id), nil
	}
	return s.customRole(ctx, id, "roles.read")
}

func (s *Service) customRole(ctx context.Context, id string, perm verigate.Permission) (*verigate.Role, error) {
	r, err := s.store.GetRole(ctx, id)
	if verigate.ErrorCode(err) == verigate.ENOTFOUND {
		return nil, verigate.Authorize(ctx, perm, verigate.Missing, ErrRoleNotFound)
	} else if err != nil {
		return nil, err
	}
	if err := verigate.Authorize(ctx, perm, verigate.Object{Org: r.OrgID}, ErrRoleNotFound); err != nil {
		return nil, err
	}
	return r, nil
}

// RoleInput is a new or changed custom role.
type RoleInput struct {
	OrgID       string // default: the caller's organization
	Name        string
	Description string
	Permissions []verigate.Permission
}

func (s *Service) checkRole(ctx context.Context, in *RoleInput) error {
	in.Name = strings.TrimSpace(in.Name)
	if err := verigate.ValidateText("name", in.Name, 64); err != nil {
		return err
	}
	if verigate.IsBuiltinRole(in.Name) {
		return verigate.FieldError("name", "is a built-in role's name")
	}
	if verigate.TooLong(in.Description, 500) {
		return verigate.FieldError("description", "must be at most 500 characters")
	}
	perms, err := validPermissions("permissions", in.Permissions, false)
	if err != nil {
		return err
	}
	in.Permissions = perms
	return grantable(ctx, perms)
}

// CreateRole creates a custom role in an organization.
func (s *Service) CreateRole(ctx context.Context, in RoleInput) (*verigate.Role, error) {
	p := verigate.PrincipalFrom(ctx)
	if p == nil {
		return nil, verigate.Errorf(verigate.EUNAUTHENTICATED, "Authentication required.")
	}
	if in.OrgID == "" {
		in.OrgID = p.OrgID
	}
	if err := verigate.Authorize(ctx, "roles.create", verigate.Object{Org: in.OrgID}, ErrAccountNotFound); err != nil {
		return nil, err
	}
	if err := s.checkRole(ctx, &in); err != nil {
		return nil, err
	}
	now := s.now()
	r := &verigate.Role{ID: verigate.NewID(), OrgID: in.OrgID, Name: in.Name, Description: in.Description,
		Permissions: in.Permissions, CreatedAt: now, UpdatedAt: now}
	ev := s.audit(ctx, "role.create", "role", r.ID, r.OrgID)
	ev.Details = map[string]any{"name": r.Name, "permissions": r.Permissions}
	if err := s.store.CreateRole(ctx, r, ev); err != nil {
		return nil, err
	}
	return r, nil
}

// ErrBuiltinRole refuses changes to built-in roles.
var ErrBuiltinRole = verigate.Errorf(verigate.EFORBIDDEN, "Built-in roles cannot be changed.")

// UpdateRole changes a custom role; its holders' permissions change at once.
func (s *Service) UpdateRole(ctx context.Context, id string, in RoleInput) (*verigate.Role, error) {
	if verigate.IsBuiltinRole(id) {
		return nil, ErrBuiltinRole
	}
	r, err := s.customRole(ctx, id, "roles.update")
	if err != nil {
		return nil, err
	}
	if err := s.checkRole(ctx, &in); err != nil {
		return nil, err
	}
	r.Name, r.Description, r.Permissions, r.UpdatedAt = in.Name, in.Description, in.Permissions, s.now()
	ev := s.audit(ctx, "role.update", "role", r.ID, r.OrgID)
	ev.Details = map[string]any{"name": r.Name, "permissions": r.Permissions}
	if err := s.store.UpdateRole(ctx, r, ev); err != nil {
		return nil, err
	}
	return r, nil
}

// DeleteRole deletes a custom role that no user holds.
func (s *Service) DeleteRole(ctx context.Context, id string) error {
	if verigate.IsBuiltinRole(id) {
		return ErrBuiltinRole
	}
	r, err := s.customRole(ctx, id, "roles.delete")
	if err != nil {
		return err
	}
	return s.store.DeleteRole(ctx, id, s.audit(ctx, "role.delete", "role", r.ID, r.OrgID))
}
