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
// never live past the session maximum age. Application tokens do not
// expire unless asked, and never outlive their creator.
const (
	TokenIdle          = 30 * time.Minute
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
	abs := now.Add(s.sessionMaxAge())
	exp := minTime(now.Add(TokenIdle+UseAllowance), abs)
	secret := verigate.NewSecret(tokenPrefix)
	t := &verigate.Token{ID: verigate.NewID(), Hash: verigate.HashSecret(secret), Type: verigate.TokenUser, UserID: u.ID, OrgID: u.OrgID,
		Application: application, Mode: mode, CreatedAt: now, LastUsedAt: now, ExpiresAt: &exp, AbsoluteExpiresAt: &abs}
	ev := s.audit(ctx, "token.issue", "token", t.ID, u.OrgID)
	ev.ActorKind, ev.ActorID = verigate.PrincipalUser, u.ID
	ev.Details = map[string]any{"type": t.Type, "application": application}
	if err := s.store.CreateToken(ctx, t, ev); err != nil {
		return "", nil, nil, err
	}
	p, _, err := s.tokenPrincipal(ctx, t)
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
	hash := verigate.HashSecret(secret)
	now := s.now()
	if e := s.lookup(ctx, tokenCacheKey(hash), now); e != nil {
		return e.token, e.p, nil
	}
	gen := s.creds.generation()
	t, err := s.store.GetTokenByHash(ctx, hash)
	if verigate.ErrorCode(err) == verigate.ENOTFOUND {
		return nil, nil, ErrInvalidToken
	} else if err != nil {
		return nil, nil, err
	}
	p, ends, err := s.tokenPrincipal(ctx, t)
	if err != nil {
		return nil, nil, err
	}
	s.creds.store(&cached{key: tokenCacheKey(hash), gen: gen, at: now, fixedEnd: ends, token: t, p: p})
	return t, p, nil
}

// tokenPrincipal computes what a token may do now: its user's current
// permissions and reach, narrowed by every token on the way from the user
// down to it. Any token on the way revoked or past its fixed expiry (or
// this one expired), or the user or an organization disabled, and the
// token is invalid. ends is the earliest end of t that does not slide:
// its sign-in cap, or its own or a creator's fixed expiry.
func (s *Service) tokenPrincipal(ctx context.Context, t *verigate.Token) (p *verigate.Principal, ends *time.Time, err error) {
	now := s.now()
	if t.RevokedAt != nil || (t.ExpiresAt != nil && !now.Before(*t.ExpiresAt)) ||
		(t.AbsoluteExpiresAt != nil && !now.Before(*t.AbsoluteExpiresAt)) {
		return nil, nil, ErrInvalidToken
	}
	chain, err := s.tokenChain(ctx, t)
	if err != nil {
		return nil, nil, err
	}
	ends = t.AbsoluteExpiresAt
	for _, c := range chain {
		end := fixedExpiry(c)
		// Revoking a creator disables what it minted; so does its end.
		if c != t && (c.RevokedAt != nil || (end != nil && !now.Before(*end))) {
			return nil, nil, ErrInvalidToken
		}
		ends = earliest(ends, end)
	}
	u, err := s.store.GetUser(ctx, t.UserID)
	if err != nil {
		return nil, nil, err
	}
	if active, err := s.userActive(ctx, u); err != nil {
		return nil, nil, err
	} else if !active || u.DeletedAt != nil {
		return nil, nil, ErrInvalidToken
	}
	perms, orgs, err := s.userRights(ctx, u)
	if err != nil {
		return nil, nil, err
	}
	perms, orgs = narrowChain(perms, orgs, chain)
	kind := verigate.PrincipalUser
	if t.Type == verigate.TokenApplication {
		kind = verigate.PrincipalAppToken
	}
	return &verigate.Principal{Kind: kind, ID: t.ID, UserID: u.ID, OrgID: t.OrgID, Permissions: perms, Orgs: orgs, Mode: t.Mode}, ends, nil
}

// tokenChain returns t and the tokens it was minted from, up to the
// user's token.
func (s *Service) tokenChain(ctx context.Context, t *verigate.Token) ([]*verigate.Token, error) {
	chain := []*verigate.Token{t}
	for cur := t; cur.ParentID != ""; {
		if len(chain) > maxTokenChain {
			return nil, ErrInvalidToken
		}
		parent, err := s.store.GetToken(ctx, cur.ParentID)
		if err != nil {
			return nil, err
		}
		chain = append(chain, parent)
		cur = parent
	}
	return chain, nil
}

// userRights is what user u may do now: its roles' permissions and its
// organization's reach.
func (s *Service) userRights(ctx context.Context, u *verigate.User) ([]verigate.Permission, []string, error) {
	perms, err := s.Permissions(ctx, u)
	if err != nil {
		return nil, nil, err
	}
	orgs, err := s.reach(ctx, u.OrgID)
	if err != nil {
		return nil, nil, err
	}
	return perms, orgs, nil
}

// narrowChain narrows a user's rights by every token of chain, from the
// user's token down: what the first token of chain carries.
func narrowChain(perms []verigate.Permission, orgs []string, chain []*verigate.Token) ([]verigate.Permission, []string) {
	for i := len(chain) - 1; i >= 0; i-- {
		perms, orgs = narrow(perms, orgs, chain[i])
	}
	return perms, orgs
}

// fixedExpiry is when a token ends however much it is used: a user
// token's sign-in cap (its idle expiry slides), an application token's
// expiry. Nil: never.
func fixedExpiry(t *verigate.Token) *time.Time {
	if t.Type == verigate.TokenUser {
		return t.AbsoluteExpiresAt
	}
	return t.ExpiresAt
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

// SlideToken records a successful request of a user token: it expires
// 30 minutes later, plus UseAllowance since uses are recorded at most once
// a minute, never past its absolute cap.
func (s *Service) SlideToken(ctx context.Context, t *verigate.Token) error {
	if t.Type != verigate.TokenUser || t.ExpiresAt == nil {
		return nil
	}
	now := s.now()
	if now.Sub(t.LastUsedAt) < UseAllowance {
		return nil
	}
	exp := now.Add(TokenIdle + UseAllowance)
	if t.AbsoluteExpiresAt != nil && exp.After(*t.AbsoluteExpiresAt) {
		exp = *t.AbsoluteExpiresAt
	}
	if err := s.store.SlideToken(ctx, t.ID, now, exp); err != nil {
		return err
	}
	s.creds.replace(tokenCacheKey(t.Hash), func(e *cached) {
		slid := *e.token
		slid.LastUsedAt, slid.ExpiresAt = now, &exp
		e.token = &slid
	})
	return nil
}

// AppTokenInput is a new application token.
type AppTokenInput struct {
	Application string
	Label       string
	Permissions []verigate.Permission
	Accounts    []string   // nil: all of the creator's
	ExpiresAt   *time.Time // nil: no expiry of its own (its creator's still ends it)
}

// MintApplicationToken mints an application token from the token in ctx.
// It may carry only permissions and accounts its creator holds; what it
// may do stays bounded by its creator's rights on every request. It never
// outlives its creator: asked for no expiry or a later one, it gets the
// creator's fixed expiry (an application token's expiry, a user token's
// sign-in cap).
func (s *Service) MintApplicationToken(ctx context.Context, in AppTokenInput) (string, *verigate.Token, *verigate.Principal, error) {
	p := verigate.PrincipalFrom(ctx)
	if p == nil || (p.Kind != verigate.PrincipalUser && p.Kind != verigate.PrincipalAppToken) {
		return "", nil, nil, verigate.Errorf(verigate.EUNAUTHENTICATED, "A user or application token is required.")
	}
	if err := verigate.Authorize(ctx, "application-tokens.create", verigate.Object{}, nil); err != nil {
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
	perms, err := validPermissions("permissions", in.Permissions, true)
	if err != nil {
		return "", nil, nil, err
	}
	if err := grantable(ctx, perms); err != nil {
		return "", nil, nil, err
	}
	if len(in.Accounts) > MaxAPIKeyAccounts {
		return "", nil, nil, verigate.FieldError("accounts", "too many accounts")
	}
	if x := p.Lacks(nil, in.Accounts); x != "" {
		return "", nil, nil, verigate.Errorf(verigate.EFORBIDDEN, "You cannot grant %s, which you may not act on.", x)
	}
	now := s.now()
	if in.ExpiresAt != nil && !in.ExpiresAt.After(now) {
		return "", nil, nil, verigate.FieldError("expiresAt", "must be in the future")
	}
	creator, err := s.store.GetToken(ctx, p.ID)
	if err != nil {
		return "", nil, nil, err
	}
	chain, err := s.tokenChain(ctx, creator)
	if err != nil {
		return "", nil, nil, err
	}
	exp := in.ExpiresAt
	for _, c := range chain {
		if end := fixedExpiry(c); end != nil && (exp == nil || exp.After(*end)) {
			exp = end
		}
	}
	secret := verigate.NewSecret(tokenPrefix)
	t := &verigate.Token{ID: verigate.NewID(), Hash: verigate.HashSecret(secret), Type: verigate.TokenApplication, UserID: creator.UserID,
		OrgID: creator.OrgID, Application: in.Application, Label: in.Label, Mode: creator.Mode, Permissions: perms,
		Accounts: in.Accounts, ParentID: creator.ID, CreatedAt: now, LastUsedAt: now, ExpiresAt: exp}
	ev := s.audit(ctx, "application_token.create", "token", t.ID, t.OrgID)
	ev.Details = map[string]any{"application": t.Application, "permissions": perms, "parent": creator.ID}
	if err := s.store.CreateToken(ctx, t, ev); err != nil {
		return "", nil, nil, err
	}
	tp, _, err := s.tokenPrincipal(ctx, t)
	if err != nil {
		return "", nil, nil, err
	}
	return secret, t, tp, nil
}
