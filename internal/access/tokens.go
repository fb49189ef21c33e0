package access

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/verigate/verigate"
)

// TokenStore is the part of the store user and application tokens need.
type TokenStore interface {
	CreateToken(ctx context.Context, t *verigate.Token, ev verigate.AuditEvent) error
	GetToken(ctx context.Context, id string) (*verigate.Token, error)
	GetTokenByHash(ctx context.Context, hash []byte) (*verigate.Token, error)
	ListTokens(ctx context.Context, f verigate.TokenFilter) ([]*verigate.Token, int, error)
	RevokeToken(ctx context.Context, id string, ev verigate.AuditEvent) error
	SlideToken(ctx context.Context, id string, at, expires time.Time) error
}

// User tokens idle out after 30 minutes (sliding, as SSO tokens do) and
// never live past 12 hours. Application tokens do not expire unless asked.
const (
	TokenIdle          = 30 * time.Minute
	TokenMaxAge        = 12 * time.Hour
	DefaultApplication = "admin-pwa"
	tokenPrefix        = "vgt_"
	maxTokenChain      = 8
)

var applicationPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ValidApplication checks an application id.
func ValidApplication(field, app string) error {
	if !applicationPattern.MatchString(app) {
		return verigate.FieldError(field, "must be 1-64 letters, digits, '.', '_' or '-'")
	}
	return nil
}

// ErrInvalidToken answers a token that is unknown, expired or revoked, or
// whose user, organization or creator is no longer good.
var ErrInvalidToken = verigate.Errorf(verigate.EUNAUTHENTICATED, "Invalid or expired token.")

// SignInToken signs a person in with email and password and returns a
// user token for application in mode.
func (s *Service) SignInToken(ctx context.Context, email, password, application string, mode verigate.Mode) (string, *verigate.Token, *verigate.Principal, error) {
	if application == "" {
		application = DefaultApplication
	}
	if err := ValidApplication("application", application); err != nil {
		return "", nil, nil, err
	}
	if mode == "" {
		mode = verigate.ModeLive
	}
	if !mode.Valid() {
		return "", nil, nil, verigate.FieldError("mode", "must be live or test")
	}
	u, err := s.SignIn(ctx, email, password)
	if err != nil {
		return "", nil, nil, err
	}
	now := s.now()
	exp, abs := now.Add(TokenIdle), now.Add(TokenMaxAge)
	secret := verigate.NewSecret(tokenPrefix)
	t := &verigate.Token{ID: verigate.NewID(), Hash: verigate.HashSecret(secret), Type: verigate.TokenUser, UserID: u.ID, OrgID: u.OrgID,
		Application: application, Mode: mode, CreatedAt: now, LastUsedAt: now, ExpiresAt: &exp, AbsoluteExpiresAt: &abs}
	ev := s.audit(ctx, "token.issue", "token", t.ID, u.OrgID)
	ev.ActorKind, ev.ActorID = verigate.PrincipalUser, u.ID
	ev.Details = map[string]any{"type": t.Type, "application": application}
	if err := s.store.CreateToken(ctx, t, ev); err != nil {
		return "", nil, nil, err
	}
	p, err := s.tokenPrincipal(ctx, t)
	if err != nil {
		return "", nil, nil, err
	}
	return secret, t, p, nil
}

// VerifyToken authenticates a user or application token and returns the
// principal it acts as now. It does not slide a user token: call
// SlideToken once the request has succeeded.
func (s *Service) VerifyToken(ctx context.Context, secret string) (*verigate.Token, *verigate.Principal, error) {
	if !strings.HasPrefix(secret, tokenPrefix) || len(secret) > 128 {
		return nil, nil, ErrInvalidToken
	}
	t, err := s.store.GetTokenByHash(ctx, verigate.HashSecret(secret))
	if verigate.ErrorCode(err) == verigate.ENOTFOUND {
		return nil, nil, ErrInvalidToken
	} else if err != nil {
		return nil, nil, err
	}
	p, err := s.tokenPrincipal(ctx, t)
	if err != nil {
		return nil, nil, err
	}
	return t, p, nil
}

// tokenPrincipal computes what a token may do now: its user's current
// permissions and reach, narrowed by every token on the way from the user
// down to it. Any token on the way revoked (or this one expired), or the
// user or an organization disabled, and the token is invalid.
func (s *Service) tokenPrincipal(ctx context.Context, t *verigate.Token) (*verigate.Principal, error) {
	now := s.now()
	if t.RevokedAt != nil || (t.ExpiresAt != nil && !now.Before(*t.ExpiresAt)) ||
		(t.AbsoluteExpiresAt != nil && !now.Before(*t.AbsoluteExpiresAt)) {
		return nil, ErrInvalidToken
	}
	chain := []*verigate.Token{t}
	for cur := t; cur.ParentID != ""; {
		if len(chain) > maxTokenChain {
			return nil, ErrInvalidToken
		}
		parent, err := s.store.GetToken(ctx, cur.ParentID)
		if err != nil {
			return nil, err
		}
		if parent.RevokedAt != nil {
			return nil, ErrInvalidToken // revoking a creator disables what it minted
		}
		chain = append(chain, parent)
		cur = parent
	}
	u, err := s.store.GetUser(ctx, t.UserID)
	if err != nil {
		return nil, err
	}
	if active, err := s.userActive(ctx, u); err != nil {
		return nil, err
	} else if !active || u.DeletedAt != nil {
		return nil, ErrInvalidToken
	}
	perms, err := s.Permissions(ctx, u)
	if err != nil {
		return nil, err
	}
	orgs, err := s.Reach(ctx, u.OrgID)
	if err != nil {
		return nil, err
	}
	for i := len(chain) - 1; i >= 0; i-- { // from the user's token down
		perms, orgs = narrow(perms, orgs, chain[i])
	}
	kind := verigate.PrincipalUser
	if t.Type == verigate.TokenApplication {
		kind = verigate.PrincipalAppToken
	}
	return &verigate.Principal{Kind: kind, ID: t.ID, UserID: u.ID, OrgID: t.OrgID, Permissions: perms, Orgs: orgs, Mode: t.Mode}, nil
}

// narrow intersects permissions and organizations with a token's limits.
func narrow(perms []verigate.Permission, orgs []string, t *verigate.Token) ([]verigate.Permission, []string) {
	if t.Permissions != nil {
		perms = slices.DeleteFunc(slices.Clone(perms), func(p verigate.Permission) bool { return !slices.Contains(t.Permissions, p) })
	}
	if t.Accounts != nil {
		orgs = slices.DeleteFunc(slices.Clone(orgs), func(o string) bool { return !slices.Contains(t.Accounts, o) })
	}
	if perms == nil {
		perms = []verigate.Permission{}
	}
	if orgs == nil {
		orgs = []string{}
	}
	return perms, orgs
}

// SlideToken moves a user token's idle expiry after a successful request
// (at most one write a minute, never past its absolute cap).
func (s *Service) SlideToken(ctx context.Context, t *verigate.Token) error {
	if t.Type != verigate.TokenUser || t.ExpiresAt == nil {
		return nil
	}
	now := s.now()
	if now.Sub(t.LastUsedAt) < time.Minute {
		return nil
	}
	exp := now.Add(TokenIdle)
	if t.AbsoluteExpiresAt != nil && exp.After(*t.AbsoluteExpiresAt) {
		exp = *t.AbsoluteExpiresAt
	}
	return s.store.SlideToken(ctx, t.ID, now, exp)
}

// AppTokenInput is a new application token.
type AppTokenInput struct {
	Application string
	Label       string
	Permissions []verigate.Permission
	Accounts    []string   // nil: all of the creator's
	ExpiresAt   *time.Time // nil: no expiry
}

// MintApplicationToken mints an application token from the token in ctx.
// It may carry only permissions and accounts its creator holds; what it
// may do stays bounded by its creator's rights on every request.
func (s *Service) MintApplicationToken(ctx context.Context, in AppTokenInput) (string, *verigate.Token, *verigate.Principal, error) {
	p := verigate.PrincipalFrom(ctx)
	if p == nil || (p.Kind != verigate.PrincipalUser && p.Kind != verigate.PrincipalAppToken) {
		return "", nil, nil, verigate.Errorf(verigate.EUNAUTHENTICATED, "A user or application token is required.")
	}
	if err := authorize(ctx, "application-tokens.create", nil, "Token"); err != nil {
		return "", nil, nil, err
	}
	if err := ValidApplication("applicationId", in.Application); err != nil {
		return "", nil, nil, err
	}
	if in.Label != "" {
		if err := verigate.ValidateText("label", in.Label, 100); err != nil {
			return "", nil, nil, err
		}
	}
	perms, err := validPermissions("permissions", in.Permissions)
	if err != nil {
		return "", nil, nil, err
	}
	if err := grantable(ctx, perms); err != nil {
		return "", nil, nil, err
	}
	if len(in.Accounts) > MaxAPIKeyAccounts {
		return "", nil, nil, verigate.FieldError("accounts", "too many accounts")
	}
	for _, a := range in.Accounts {
		if !slices.Contains(p.Orgs, a) {
			return "", nil, nil, verigate.Errorf(verigate.EFORBIDDEN, "You cannot grant account %s, which you may not act on.", a)
		}
	}
	now := s.now()
	if in.ExpiresAt != nil && !in.ExpiresAt.After(now) {
		return "", nil, nil, verigate.FieldError("expiresAt", "must be in the future")
	}
	creator, err := s.store.GetToken(ctx, p.ID)
	if err != nil {
		return "", nil, nil, err
	}
	secret := verigate.NewSecret(tokenPrefix)
	t := &verigate.Token{ID: verigate.NewID(), Hash: verigate.HashSecret(secret), Type: verigate.TokenApplication, UserID: creator.UserID,
		OrgID: creator.OrgID, Application: in.Application, Label: in.Label, Mode: creator.Mode, Permissions: perms,
		Accounts: in.Accounts, ParentID: creator.ID, CreatedAt: now, LastUsedAt: now, ExpiresAt: in.ExpiresAt}
	ev := s.audit(ctx, "application_token.create", "token", t.ID, t.OrgID)
	ev.Details = map[string]any{"application": t.Application, "permissions": perms, "parent": creator.ID}
	if err := s.store.CreateToken(ctx, t, ev); err != nil {
		return "", nil, nil, err
	}
	tp, err := s.tokenPrincipal(ctx, t)
	if err != nil {
		return "", nil, nil, err
	}
	return secret, t, tp, nil
}

// ApplicationTokens lists an application's tokens in the caller's reach.
func (s *Service) ApplicationTokens(ctx context.Context, application string, skip, limit int, desc bool) ([]*verigate.Token, int, error) {
	if err := authorize(ctx, "application-tokens.read", nil, "Token"); err != nil {
		return nil, 0, err
	}
	if err := ValidApplication("applicationId", application); err != nil {
		return nil, 0, err
	}
	if skip < 0 {
		return nil, 0, verigate.FieldError("skip", "must not be negative")
	}
	if limit < 1 || limit > 100 {
		return nil, 0, verigate.FieldError("limit", "must be between 1 and 100")
	}
	p := verigate.PrincipalFrom(ctx)
	return s.store.ListTokens(ctx, verigate.TokenFilter{OrgIDs: p.Orgs, Application: application, Skip: skip, Limit: limit, SortDesc: desc})
}

// RevokeApplicationToken revokes an application token (and so everything
// minted from it).
func (s *Service) RevokeApplicationToken(ctx context.Context, application, id string) error {
	t, err := s.store.GetToken(ctx, id)
	if verigate.ErrorCode(err) == verigate.ENOTFOUND || (err == nil && (t.Type != verigate.TokenApplication || t.Application != application)) {
		return verigate.Errorf(verigate.ENOTFOUND, "Token not found.")
	} else if err != nil {
		return err
	}
	if err := authorize(ctx, "application-tokens.delete", &verigate.Organization{ID: t.OrgID}, "Token"); err != nil {
		return err
	}
	return s.store.RevokeToken(ctx, id, s.audit(ctx, "application_token.revoke", "token", id, t.OrgID))
}

// TokenPrincipal recomputes a token's principal (what it may do now).
func (s *Service) TokenPrincipal(ctx context.Context, t *verigate.Token) (*verigate.Principal, error) {
	return s.tokenPrincipal(ctx, t)
}
