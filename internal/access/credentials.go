package access

import (
	"context"
	"crypto/subtle"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/verigate/verigate"
)

const accessTokenPrefix = "vgat_"

// IssueAccessToken issues an onboarding access token for a reseller and
// returns it; it is shown once and stored only as a hash.
func (s *Service) IssueAccessToken(ctx context.Context, orgKey string) (string, *verigate.AccessToken, error) {
	org, err := s.orgFor(ctx, orgKey, "access-tokens.create")
	if err != nil {
		return "", nil, err
	}
	if org.Kind != verigate.OrgReseller {
		return "", nil, verigate.Errorf(verigate.EINVALID, "Onboarding access tokens are issued to resellers; %q is a %s.", orgKey, org.Kind)
	}
	secret := verigate.NewSecret(accessTokenPrefix)
	p := verigate.PrincipalFrom(ctx)
	t := &verigate.AccessToken{ID: verigate.NewID(), OrgID: org.ID, Hash: verigate.HashSecret(secret), CreatedBy: p.ID, CreatedAt: s.now()}
	if err := s.store.CreateAccessToken(ctx, t, s.audit(ctx, "access_token.issue", "access_token", t.ID, org.ID)); err != nil {
		return "", nil, err
	}
	return secret, t, nil
}

// ListAccessTokens lists a reseller's onboarding access tokens.
func (s *Service) ListAccessTokens(ctx context.Context, orgKey string) ([]*verigate.AccessToken, error) {
	org, err := s.orgFor(ctx, orgKey, "access-tokens.read")
	if err != nil {
		return nil, err
	}
	return s.store.ListAccessTokens(ctx, org.ID)
}

// RevokeAccessToken revokes an onboarding access token by id.
func (s *Service) RevokeAccessToken(ctx context.Context, id string) error {
	t, err := s.store.GetAccessToken(ctx, id)
	if err != nil {
		return err
	}
	if err := verigate.Authorize(ctx, "access-tokens.delete", verigate.Object{Org: t.OrgID}, ErrAccessTokenNotFound); err != nil {
		return err
	}
	return s.store.RevokeAccessToken(ctx, id, s.audit(ctx, "access_token.revoke", "access_token", id, t.OrgID))
}

// VerifyAccessToken returns the live access token with this secret and
// its (active) reseller.
func (s *Service) VerifyAccessToken(ctx context.Context, secret string) (*verigate.AccessToken, *verigate.Organization, error) {
	bad := verigate.Errorf(verigate.EUNAUTHENTICATED, "Invalid access token.")
	if !strings.HasPrefix(secret, accessTokenPrefix) || len(secret) > 128 {
		return nil, nil, bad
	}
	t, err := s.store.GetAccessTokenByHash(ctx, verigate.HashSecret(secret))
	if verigate.ErrorCode(err) == verigate.ENOTFOUND {
		return nil, nil, bad
	} else if err != nil {
		return nil, nil, err
	}
	if t.RevokedAt != nil {
		return nil, nil, bad
	}
	if active, err := s.orgActive(ctx, t.OrgID); err != nil {
		return nil, nil, err
	} else if !active {
		return nil, nil, bad
	}
	org, err := s.store.GetOrganization(ctx, t.OrgID)
	if err != nil {
		return nil, nil, err
	}
	if now := s.now(); t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= time.Minute {
		if err := s.store.TouchAccessToken(ctx, t.ID, now); err != nil {
			return nil, nil, err
		}
	}
	return t, org, nil
}

// APIKeyInput describes a new API key.
type APIKeyInput struct {
	OrgKey    string
	UserEmail string // the key acts as this user, never beyond its rights
	Name      string
	Scopes    []string // "resource:action" or "resource.action"
	Accounts  []string // allowed organizations or connections; empty: all of the user's
	Mode      verigate.Mode
	RateLimit *verigate.RateLimitPolicy // nil: verigate.DefaultRateLimit
	ExpiresAt *time.Time
}

// MaxAPIKeyAccounts bounds the allowed-accounts list of one key.
const MaxAPIKeyAccounts = 1000

// CreateAPIKey creates an API key and returns it; it is shown once.
func (s *Service) CreateAPIKey(ctx context.Context, in APIKeyInput) (string, *verigate.APIKey, error) {
	if len(in.Scopes) == 0 {
		return "", nil, verigate.FieldError("scopes", "at least one scope is required")
	}
	var scopes []string
	for _, sc := range in.Scopes {
		if _, ok := verigate.ScopePermissions(sc); !ok {
			return "", nil, verigate.FieldError("scopes", "unknown scope "+sc)
		}
		if sc = strings.Replace(sc, ".", ":", 1); !slices.Contains(scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	if len(in.Accounts) > MaxAPIKeyAccounts {
		return "", nil, verigate.FieldError("accounts", "at most 1000 accounts")
	}
	for _, a := range in.Accounts {
		if err := verigate.ValidateText("accounts", a, 64); err != nil {
			return "", nil, err
		}
	}
	mode := in.Mode
	if mode == "" {
		mode = verigate.ModeLive
	}
	if !mode.Valid() {
		return "", nil, verigate.FieldError("mode", "must be live or test")
	}
	rl := verigate.DefaultRateLimit
	if in.RateLimit != nil {
		rl = *in.RateLimit
	}
	if err := rl.Validate(); err != nil {
		return "", nil, err
	}
	// The per-key limit protects the platform: only its operators (the
	// admin CLI) may give a key more than the default rate.
	if p := verigate.PrincipalFrom(ctx); p == nil || p.Kind != verigate.PrincipalSystem {
		d := verigate.DefaultRateLimit
		if float64(rl.Limit)/rl.TTL.Seconds() > float64(d.Limit)/d.TTL.Seconds() {
			return "", nil, verigate.FieldError("rateLimit", fmt.Sprintf("may not allow more than the default of %d requests a %s", d.Limit, d.TTL))
		}
	}
	if in.Name != "" {
		if err := verigate.ValidateText("name", in.Name, 100); err != nil {
			return "", nil, err
		}
	}
	now := s.now()
	if in.ExpiresAt != nil && !in.ExpiresAt.After(now) {
		return "", nil, verigate.FieldError("expiresAt", "must be in the future")
	}
	org, err := s.orgFor(ctx, in.OrgKey, "api-keys.create")
	if err != nil {
		return "", nil, err
	}
	email, err := verigate.NormalizeEmail(in.UserEmail)
	if err != nil {
		return "", nil, err
	}
	u, err := s.store.GetUserByEmail(ctx, email)
	if verigate.ErrorCode(err) == verigate.ENOTFOUND || (err == nil && u.OrgID != org.ID) {
		return "", nil, verigate.Errorf(verigate.EINVALID, "No user %q in organization %q.", email, in.OrgKey)
	} else if err != nil {
		return "", nil, err
	}
	// The key acts as u: it may not carry a scope u does not hold.
	held, err := s.Permissions(ctx, u)
	if err != nil {
		return "", nil, err
	}
	for _, sc := range scopes {
		ps, _ := verigate.ScopePermissions(sc)
		for _, p := range ps {
			if !slices.Contains(held, p) {
				return "", nil, verigate.Errorf(verigate.EFORBIDDEN, "User %s does not hold %s, so a key acting as it cannot carry scope %s.", email, p, sc)
			}
		}
	}
	if err := s.checkAccounts(ctx, u.OrgID, in.Accounts); err != nil {
		return "", nil, err
	}
	k := &verigate.APIKey{OrgID: org.ID, UserID: u.ID, Name: in.Name, Scopes: scopes, Accounts: in.Accounts,
		Mode: mode, RateLimit: rl, ExpiresAt: in.ExpiresAt, CreatedAt: now}
	for range 5 { // 32-bit ids: on the rare collision, draw again
		k.ID = newAPIKeyID()
		secret := formatAPIKey(k.ID)
		k.Hash = verigate.HashSecret(secret)
		ev := s.audit(ctx, "api_key.create", "api_key", k.ID, org.ID)
		ev.Details = map[string]any{"scopes": scopes, "mode": string(mode), "userId": u.ID}
		err = s.store.CreateAPIKey(ctx, k, ev)
		if verigate.ErrorCode(err) != verigate.ECONFLICT {
			if err != nil {
				return "", nil, err
			}
			return secret, k, nil
		}
	}
	return "", nil, err
}

// ListAPIKeys lists an organization's API keys (never their secrets).
func (s *Service) ListAPIKeys(ctx context.Context, orgKey string) ([]*verigate.APIKey, error) {
	org, err := s.orgFor(ctx, orgKey, "api-keys.read")
	if err != nil {
		return nil, err
	}
	return s.store.ListAPIKeys(ctx, org.ID)
}

// RevokeAPIKey revokes an API key by id.
func (s *Service) RevokeAPIKey(ctx context.Context, id string) error {
	k, err := s.store.GetAPIKey(ctx, id)
	if err != nil {
		return err
	}
	if err := verigate.Authorize(ctx, "api-keys.delete", verigate.Object{Org: k.OrgID}, ErrAPIKeyNotFound); err != nil {
		return err
	}
	return s.store.RevokeAPIKey(ctx, id, s.audit(ctx, "api_key.revoke", "api_key", id, k.OrgID))
}

// ErrInvalidAPIKey is the answer to any key that is malformed, unknown,
// revoked, expired, or whose user or organization is disabled.
var ErrInvalidAPIKey = verigate.Errorf(verigate.EUNAUTHENTICATED, "Invalid API key.")

// VerifyAPIKey authenticates an API key and returns it with the principal
// it acts as: the key's scopes that its user still holds, over the
// user's organizations narrowed to the key's accounts.
func (s *Service) VerifyAPIKey(ctx context.Context, key string) (*verigate.APIKey, *verigate.Principal, error) {
	id, ok := ParseAPIKey(key)
	if !ok {
		return nil, nil, ErrInvalidAPIKey
	}
	hash := verigate.HashSecret(key)
	now := s.now()
	if e := s.lookup(ctx, apiKeyCacheKey(hash), now); e != nil {
		k, err := s.touchAPIKey(ctx, e.apiKey, now)
		if err != nil {
			return nil, nil, err
		}
		if k != e.apiKey {
			s.creds.replace(e.key, func(e *cached) { e.apiKey = k })
		}
		return k, e.p, nil
	}
	gen := s.creds.generation()
	k, err := s.store.GetAPIKey(ctx, id)
	if verigate.ErrorCode(err) == verigate.ENOTFOUND {
		return nil, nil, ErrInvalidAPIKey
	} else if err != nil {
		return nil, nil, err
	}
	if subtle.ConstantTimeCompare(hash, k.Hash) != 1 || k.RevokedAt != nil {
		return nil, nil, ErrInvalidAPIKey
	}
	if k.ExpiresAt != nil && !now.Before(*k.ExpiresAt) {
		return nil, nil, ErrInvalidAPIKey
	}
	u, err := s.store.GetUser(ctx, k.UserID)
	if err != nil {
		return nil, nil, err
	}
	if active, err := s.userActive(ctx, u); err != nil {
		return nil, nil, err
	} else if !active {
		return nil, nil, ErrInvalidAPIKey
	}
	held, err := s.Permissions(ctx, u)
	if err != nil {
		return nil, nil, err
	}
	var perms []verigate.Permission
	for _, sc := range k.Scopes {
		ps, _ := verigate.ScopePermissions(sc)
		for _, p := range ps {
			if slices.Contains(held, p) && !slices.Contains(perms, p) {
				perms = append(perms, p)
			}
		}
	}
	orgs, err := s.reach(ctx, u.OrgID)
	if err != nil {
		return nil, nil, err
	}
	if len(k.Accounts) > 0 {
		if orgs, err = s.accountOrgs(ctx, orgs, k.Accounts); err != nil {
			return nil, nil, err
		}
	}
	if k, err = s.touchAPIKey(ctx, k, now); err != nil {
		return nil, nil, err
	}
	p := &verigate.Principal{Kind: verigate.PrincipalAPIKey, ID: k.ID, UserID: u.ID, OrgID: k.OrgID,
		Permissions: perms, Orgs: orgs, Accounts: k.Accounts, Mode: k.Mode}
	s.creds.store(&cached{key: apiKeyCacheKey(hash), gen: gen, at: now, fixedEnd: k.ExpiresAt, apiKey: k, p: p})
	return k, p, nil
}

// touchAPIKey records a use of k at most once a minute, and returns k as
// it now is (a copy, when touched: k may be shared through the cache).
func (s *Service) touchAPIKey(ctx context.Context, k *verigate.APIKey, now time.Time) (*verigate.APIKey, error) {
	if k.LastUsedAt != nil && now.Sub(*k.LastUsedAt) < time.Minute {
		return k, nil
	}
	if err := s.store.TouchAPIKey(ctx, k.ID, now); err != nil {
		return nil, err
	}
	touched := *k
	touched.LastUsedAt = &now
	return &touched, nil
}

// checkAccounts refuses an account list with an entry that is neither an
// organization nor a connection within orgID's reach: a mistyped id would
// otherwise leave a key restricted to nothing it was meant for.
func (s *Service) checkAccounts(ctx context.Context, orgID string, accounts []string) error {
	if len(accounts) == 0 {
		return nil
	}
	reach, err := s.reach(ctx, orgID)
	if err != nil {
		return err
	}
	connOrgs, err := s.store.ConnectionOrgs(ctx, accounts)
	if err != nil {
		return err
	}
	for _, a := range accounts {
		if o, isConn := connOrgs[a]; !slices.Contains(reach, a) && !(isConn && slices.Contains(reach, o)) {
			return verigate.FieldError("accounts", "names "+a+", which is neither an organization nor an account this key's user reaches")
		}
	}
	return nil
}

// accountOrgs narrows reach to the organizations an account list names,
// directly or through its connections (which connect further restricts the
// key to). A list naming nothing within reach narrows it to nothing.
func (s *Service) accountOrgs(ctx context.Context, reach, accounts []string) ([]string, error) {
	var conns []string
	for _, a := range accounts {
		if !slices.Contains(reach, a) {
			conns = append(conns, a)
		}
	}
	connOrgs, err := s.store.ConnectionOrgs(ctx, conns)
	if err != nil {
		return nil, err
	}
	narrowed := []string{}
	for _, o := range reach {
		if slices.Contains(accounts, o) || slices.ContainsFunc(conns, func(c string) bool { return connOrgs[c] == o }) {
			narrowed = append(narrowed, o)
		}
	}
	return narrowed, nil
}
