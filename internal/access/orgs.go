package access

import (
	"context"
	"strings"

	"github.com/verigate/verigate"
)

// PlatformKey is the key of the one platform organization, the root of the
// tenant tree; every reseller is its child.
const PlatformKey = "platform"

// EnsurePlatform creates the platform organization when it is missing.
func (s *Service) EnsurePlatform(ctx context.Context) (*verigate.Organization, error) {
	o, err := s.store.GetOrganizationByKey(ctx, PlatformKey)
	if verigate.ErrorCode(err) != verigate.ENOTFOUND {
		return o, err
	}
	now := s.now()
	o = &verigate.Organization{ID: verigate.NewID(), Kind: verigate.OrgPlatform, Key: PlatformKey, Name: "Platform",
		Status: verigate.StatusActive, CreatedAt: now, UpdatedAt: now}
	ev := s.audit(ctx, "organization.create", "organization", o.ID, o.ID)
	ev.ActorKind, ev.ActorID = verigate.PrincipalSystem, "server" // the server itself, at start
	if err := s.store.CreateOrganization(ctx, o, ev); err != nil {
		if verigate.ErrorCode(err) == verigate.ECONFLICT { // another process won the race
			return s.store.GetOrganizationByKey(ctx, PlatformKey)
		}
		return nil, err
	}
	return o, nil
}

// OrgInput describes a new organization.
type OrgInput struct {
	Kind      verigate.OrgKind
	Key       string
	Name      string
	ParentKey string // required for an institution: its reseller
	Core      string // the institution's core banking system
}

// CreateOrganization creates a reseller (under the platform) or an
// institution (under a reseller named by ParentKey).
func (s *Service) CreateOrganization(ctx context.Context, in OrgInput) (*verigate.Organization, error) {
	if err := verigate.ValidateOrgKey(in.Key); err != nil {
		return nil, err
	}
	if err := verigate.ValidateText("name", strings.TrimSpace(in.Name), 200); err != nil {
		return nil, err
	}
	if err := verigate.ValidateOptionalText("core", strings.TrimSpace(in.Core), 100); err != nil {
		return nil, err
	}
	var parent *verigate.Organization
	var err error
	switch in.Kind {
	case verigate.OrgReseller:
		if in.ParentKey != "" && in.ParentKey != PlatformKey {
			return nil, verigate.FieldError("parent", "a reseller's parent is the platform")
		}
		parent, err = s.EnsurePlatform(ctx)
	case verigate.OrgInstitution:
		if in.ParentKey == "" {
			return nil, verigate.FieldError("parent", "an institution needs its reseller as parent")
		}
		parent, err = s.store.GetOrganizationByKey(ctx, in.ParentKey)
	default:
		return nil, verigate.FieldError("kind", "must be reseller or institution")
	}
	// A foreign parent answers exactly as a missing one.
	missing := verigate.Errorf(verigate.EINVALID, "Parent organization %q does not exist.", in.ParentKey)
	if verigate.ErrorCode(err) == verigate.ENOTFOUND {
		return nil, missing
	} else if err != nil {
		return nil, err
	}
	if err := verigate.Authorize(ctx, "organizations.create", verigate.Object{Org: parent.ID}, ErrOrganizationNotFound); verigate.ErrorCode(err) == verigate.ENOTFOUND && in.Kind == verigate.OrgInstitution {
		return nil, missing
	} else if err != nil {
		return nil, err
	}
	if in.Kind == verigate.OrgInstitution && parent.Kind != verigate.OrgReseller {
		return nil, verigate.Errorf(verigate.EINVALID, "Parent %q is a %s; an institution's parent must be a reseller.", in.ParentKey, parent.Kind)
	}
	now := s.now()
	o := &verigate.Organization{ID: verigate.NewID(), Kind: in.Kind, Key: in.Key, Name: strings.TrimSpace(in.Name),
		ParentID: parent.ID, Core: strings.TrimSpace(in.Core), Status: verigate.StatusActive, CreatedAt: now, UpdatedAt: now}
	ev := s.audit(ctx, "organization.create", "organization", o.ID, o.ID)
	ev.Details = map[string]any{"key": o.Key, "kind": string(o.Kind)}
	if err := s.store.CreateOrganization(ctx, o, ev); verigate.ErrorCode(err) == verigate.ECONFLICT {
		return nil, s.keyTaken(ctx, o.Key)
	} else if err != nil {
		return nil, err
	}
	return o, nil
}

// keyTaken answers an organization key already in use. Keys are unique
// across tenants, so the answer says so only when that organization is in
// the caller's reach; otherwise it confirms nothing.
func (s *Service) keyTaken(ctx context.Context, key string) error {
	if o, err := s.store.GetOrganizationByKey(ctx, key); err == nil && inReach(ctx, o.ID) {
		return verigate.Errorf(verigate.ECONFLICT, "An organization with key %q already exists.", key)
	}
	return verigate.Errorf(verigate.ECONFLICT, "This key cannot be used; choose another.")
}

// Organization returns the organization with key, if the caller may read it.
func (s *Service) Organization(ctx context.Context, key string) (*verigate.Organization, error) {
	o, err := s.orgFor(ctx, key, "organizations.read")
	if err != nil {
		return nil, err
	}
	return o, nil
}

// ListOrganizations returns the organizations matching f that the caller
// may read.
func (s *Service) ListOrganizations(ctx context.Context, f verigate.OrgFilter) ([]*verigate.Organization, error) {
	all, err := s.store.ListOrganizations(ctx, f)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, o := range all {
		if verigate.Authorize(ctx, "organizations.read", verigate.Object{Org: o.ID}, ErrOrganizationNotFound) == nil {
			out = append(out, o)
		}
	}
	return out, nil
}

// DisableOrganization disables an organization; every sign-in under it,
// its descendants' included, stops working at once.
func (s *Service) DisableOrganization(ctx context.Context, key string) (*verigate.Organization, error) {
	o, err := s.orgFor(ctx, key, "organizations.disable")
	if err != nil {
		return nil, err
	}
	if o.Kind == verigate.OrgPlatform {
		return nil, verigate.Errorf(verigate.EINVALID, "The platform organization cannot be disabled.")
	}
	if o.Status == verigate.StatusDisabled {
		return nil, verigate.Errorf(verigate.ECONFLICT, "Organization %q is already disabled.", key)
	}
	o.Status, o.UpdatedAt = verigate.StatusDisabled, s.now()
	if err := s.store.UpdateOrganization(ctx, o, s.audit(ctx, "organization.disable", "organization", o.ID, o.ID)); err != nil {
		return nil, err
	}
	return o, nil
}

// ErrNoInstitution answers an institution a principal may not act in:
// one that does not exist, is out of its reach, is not an institution, or
// is disabled (itself or an ancestor) — all alike.
var ErrNoInstitution = verigate.Errorf(verigate.EFORBIDDEN, "The institution named is not one this credential may act in.")

// ActingInstitution returns the institution with key for the principal in
// ctx to act in, or ErrNoInstitution.
func (s *Service) ActingInstitution(ctx context.Context, key string) (*verigate.Organization, error) {
	o, err := s.store.GetOrganizationByKey(ctx, key)
	if verigate.ErrorCode(err) == verigate.ENOTFOUND {
		return nil, ErrNoInstitution
	} else if err != nil {
		return nil, err
	}
	if err := verigate.Authorize(ctx, "organizations.read", verigate.Object{Org: o.ID}, ErrNoInstitution); err != nil {
		return nil, ErrNoInstitution // a missing permission, too: the credential may not act there
	}
	if o.Kind != verigate.OrgInstitution {
		return nil, ErrNoInstitution
	}
	if active, err := s.orgActive(ctx, o.ID); err != nil {
		return nil, err
	} else if !active {
		return nil, ErrNoInstitution
	}
	return o, nil
}

func (s *Service) orgActive(ctx context.Context, id string) (bool, error) {
	return s.store.OrgChainActive(ctx, id)
}

// reach returns the organization ids a member of orgID may act on: the
// organization itself and all its descendants.
func (s *Service) reach(ctx context.Context, orgID string) ([]string, error) {
	return s.store.OrgReach(ctx, orgID)
}

// OrgUpdate names the fields to change; nil leaves one as it is.
type OrgUpdate struct {
	Name *string
	Core *string
}

// validate checks the fields an update changes.
func (in OrgUpdate) validate() error {
	if in.Name != nil {
		if err := verigate.ValidateText("name", strings.TrimSpace(*in.Name), 200); err != nil {
			return err
		}
	}
	if in.Core != nil {
		return verigate.ValidateOptionalText("core", strings.TrimSpace(*in.Core), 100)
	}
	return nil
}

// UpdateOrganization changes the name or core of the organization with
// key (Confirm's institution key).
func (s *Service) UpdateOrganization(ctx context.Context, key string, in OrgUpdate) (*verigate.Organization, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	o, err := s.orgFor(ctx, key, "organizations.update")
	if err != nil {
		return nil, err
	}
	return s.update(ctx, o, in)
}

// UpdateOrganizationByID changes the name or core of the organization
// with id (ExactPay's organizationId).
func (s *Service) UpdateOrganizationByID(ctx context.Context, id string, in OrgUpdate) (*verigate.Organization, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	o, err := s.organizationByID(ctx, id, "organizations.update")
	if err != nil {
		return nil, err
	}
	return s.update(ctx, o, in)
}

// UpdateAccount changes a child institution of an organization.
func (s *Service) UpdateAccount(ctx context.Context, orgID, accountID string, in OrgUpdate) (*verigate.Organization, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	a, err := s.Account(ctx, orgID, accountID, "accounts.update")
	if err != nil {
		return nil, err
	}
	return s.update(ctx, a, in)
}

func (s *Service) update(ctx context.Context, o *verigate.Organization, in OrgUpdate) (*verigate.Organization, error) {
	changes := map[string]any{}
	if in.Name != nil {
		o.Name = strings.TrimSpace(*in.Name)
		changes["name"] = o.Name
	}
	if in.Core != nil {
		o.Core = strings.TrimSpace(*in.Core)
		changes["core"] = o.Core
	}
	o.UpdatedAt = s.now()
	ev := s.audit(ctx, "organization.update", "organization", o.ID, o.ID)
	ev.Details = changes
	if err := s.store.UpdateOrganization(ctx, o, ev); err != nil {
		return nil, err
	}
	return o, nil
}

// OrganizationByID returns an organization by id, if the caller may read it.
func (s *Service) OrganizationByID(ctx context.Context, id string) (*verigate.Organization, error) {
	return s.organizationByID(ctx, id, "organizations.read")
}

func (s *Service) organizationByID(ctx context.Context, id string, perm verigate.Permission) (*verigate.Organization, error) {
	o, err := s.store.GetOrganization(ctx, id)
	if verigate.ErrorCode(err) == verigate.ENOTFOUND {
		return nil, verigate.Authorize(ctx, perm, verigate.Missing, ErrOrganizationNotFound)
	} else if err != nil {
		return nil, err
	}
	if err := verigate.Authorize(ctx, perm, verigate.Object{Org: o.ID}, ErrOrganizationNotFound); err != nil {
		return nil, err
	}
	return o, nil
}

// Accounts lists an organization's child institutions (ExactPay's
// accounts) whose key or name contains q, by key.
func (s *Service) Accounts(ctx context.Context, orgID, q string) ([]*verigate.Organization, error) {
	if _, err := s.OrganizationByID(ctx, orgID); err != nil {
		return nil, err
	}
	if err := verigate.Authorize(ctx, "accounts.read", verigate.Object{Org: orgID}, ErrOrganizationNotFound); err != nil {
		return nil, err
	}
	children, err := s.store.ListOrganizations(ctx, verigate.OrgFilter{ParentID: orgID})
	if err != nil {
		return nil, err
	}
	q = strings.ToLower(strings.TrimSpace(q))
	out := []*verigate.Organization{}
	for _, c := range children {
		if q == "" || strings.Contains(strings.ToLower(c.Key), q) || strings.Contains(strings.ToLower(c.Name), q) {
			out = append(out, c)
		}
	}
	return out, nil
}

// Account returns one child institution of an organization.
func (s *Service) Account(ctx context.Context, orgID, accountID string, perm verigate.Permission) (*verigate.Organization, error) {
	if _, err := s.OrganizationByID(ctx, orgID); err != nil {
		return nil, err
	}
	a, err := s.store.GetOrganization(ctx, accountID)
	if verigate.ErrorCode(err) == verigate.ENOTFOUND || (err == nil && a.ParentID != orgID) {
		return nil, verigate.Authorize(ctx, perm, verigate.Missing, ErrAccountNotFound)
	} else if err != nil {
		return nil, err
	}
	if err := verigate.Authorize(ctx, perm, verigate.Object{Org: a.ID}, ErrAccountNotFound); err != nil {
		return nil, err
	}
	return a, nil
}
