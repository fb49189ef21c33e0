package access

import (
	"context"
	"slices"
	"strings"

	"github.com/verigate/verigate"
)

// The signed-in user's own API keys (Reconbanker's /api/me/api-keys): the
// same rules as every API key — the organization permission, and a key
// carries only scopes its user holds — on the user's keys alone; another
// user's key answers as a missing one.

// MyAPIKeys lists the caller's own API keys, and the scopes the caller
// may give a new one.
func (s *Service) MyAPIKeys(ctx context.Context) ([]*verigate.APIKey, []string, error) {
	p := verigate.PrincipalFrom(ctx)
	if err := verigate.Authorize(ctx, "api-keys.read", verigate.Object{Org: p.OrgID}, ErrAPIKeyNotFound); err != nil {
		return nil, nil, err
	}
	all, err := s.store.ListAPIKeys(ctx, p.OrgID)
	if err != nil {
		return nil, nil, err
	}
	keys := []*verigate.APIKey{}
	for _, k := range all {
		if k.UserID == p.UserID {
			keys = append(keys, k)
		}
	}
	var scopes []string
	for _, perm := range p.Permissions {
		if sc := verigate.PermissionScope(perm); !slices.Contains(scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	slices.Sort(scopes)
	return keys, scopes, nil
}

// CreateMyAPIKey creates an API key acting as the caller, in the caller's
// organization (in.OrgKey and in.UserEmail are ignored).
func (s *Service) CreateMyAPIKey(ctx context.Context, in APIKeyInput) (string, *verigate.APIKey, error) {
	p := verigate.PrincipalFrom(ctx)
	if p.UserID == "" {
		return "", nil, verigate.Errorf(verigate.EFORBIDDEN, "Only a signed-in user has API keys of its own.")
	}
	u, err := s.store.GetUser(ctx, p.UserID)
	if err != nil {
		return "", nil, err
	}
	o, err := s.store.GetOrganization(ctx, u.OrgID)
	if err != nil {
		return "", nil, err
	}
	in.OrgKey, in.UserEmail = o.Key, u.Email
	return s.CreateAPIKey(ctx, in)
}

// RevokeMyAPIKey revokes one of the caller's own API keys.
func (s *Service) RevokeMyAPIKey(ctx context.Context, id string) error {
	p := verigate.PrincipalFrom(ctx)
	k, err := s.store.GetAPIKey(ctx, id)
	if verigate.ErrorCode(err) == verigate.ENOTFOUND || (err == nil && (k.UserID != p.UserID || p.UserID == "")) {
		return ErrAPIKeyNotFound
	} else if err != nil {
		return err
	}
	return s.RevokeAPIKey(ctx, id)
}

// GrantableScopes are the API-key scopes p may give a key acting as
// itself: the /v1 scopes (verigate.Scopes) whose permissions p all holds,
// in their order, then the own spelling of every other permission p
// holds, sorted. A key with any other scope is refused.
func GrantableScopes(p *verigate.Principal) []string {
	var out, more []string
	for _, sc := range verigate.Scopes {
		ps, _ := verigate.ScopePermissions(sc)
		if !slices.ContainsFunc(ps, func(perm verigate.Permission) bool { return !slices.Contains(p.Permissions, perm) }) {
			out = append(out, sc)
		}
	}
	for _, perm := range p.Permissions {
		sc := verigate.PermissionScope(perm)
		if !slices.Contains(out, sc) && !slices.Contains(more, sc) {
			if ps, _ := verigate.ScopePermissions(sc); slices.ContainsFunc(ps, func(q verigate.Permission) bool { return !slices.Contains(p.Permissions, q) }) {
				sc = strings.Replace(string(perm), ".", ":", 1) // an alias p does not wholly hold: the permission's own spelling
			}
			if !slices.Contains(out, sc) && !slices.Contains(more, sc) {
				more = append(more, sc)
			}
		}
	}
	slices.Sort(more)
	return append(out, more...)
}
