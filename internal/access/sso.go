package access

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"

	"github.com/verigate/verigate"
)

// SSO token lifetimes: the window slides to 30 minutes after each
// successful request, never past the session maximum age after sign-in.
const (
	SSOIdle       = 30 * time.Minute
	LoginTokenTTL = 30 * time.Minute
)

// Sessions (SSO tokens, Embedded user tokens) record a use at most once
// per UseAllowance, so that most requests only read. Each recording sets
// the expiry UseAllowance beyond the idle window: a session never expires
// earlier than the idle window after its last successful request, and may
// be honoured up to UseAllowance longer.
const UseAllowance = time.Minute

// DefaultSessionMaxAge is how long a session lives at most, however much
// it is used, unless Service.SessionMaxAge says otherwise.
const DefaultSessionMaxAge = 12 * time.Hour

func (s *Service) sessionMaxAge() time.Duration {
	if s.SessionMaxAge > 0 {
		return s.SessionMaxAge
	}
	return DefaultSessionMaxAge
}

// ErrInvalidSSOToken answers every SSO token that is unknown, expired,
// revoked, or whose account or organization is disabled.
var ErrInvalidSSOToken = verigate.Errorf(verigate.EUNAUTHENTICATED, "Invalid or expired SSO token.")

// newGUID returns 128 random bits in the 8-4-4-4-12 form Confirm uses.
func newGUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdef", c) {
				return false
			}
		}
	}
	return true
}

// SSOGrant is what a service account's sign-in gives: an SSO token (the
// secret, shown once) and the keys of its reseller's active institutions.
type SSOGrant struct {
	Secret          string
	Token           *verigate.SSOToken
	InstitutionKeys []string
}

// RequestSSOToken signs a reseller's service account in with its
// onboarding access token, email and password, and opens an SSO session.
// Every credential failure is ErrBadCredentials.
func (s *Service) RequestSSOToken(ctx context.Context, accessToken, email, password string) (*SSOGrant, error) {
	u, err := s.SignInServiceAccount(ctx, accessToken, email, password)
	if err != nil {
		return nil, err
	}
	secret, t, err := s.issueSSOToken(ctx, u)
	if err != nil {
		return nil, err
	}
	orgs, err := s.store.ListOrganizations(ctx, verigate.OrgFilter{Kind: verigate.OrgInstitution, ParentID: u.OrgID})
	if err != nil {
		return nil, err
	}
	g := &SSOGrant{Secret: secret, Token: t, InstitutionKeys: []string{}}
	for _, o := range orgs {
		if o.Status == verigate.StatusActive {
			g.InstitutionKeys = append(g.InstitutionKeys, o.Key)
		}
	}
	return g, nil
}

// issueSSOToken opens an SSO session for a signed-in service account.
func (s *Service) issueSSOToken(ctx context.Context, u *verigate.User) (string, *verigate.SSOToken, error) {
	secret := newGUID()
	now := s.now()
	abs := now.Add(s.sessionMaxAge())
	t := &verigate.SSOToken{ID: verigate.NewID(), Hash: verigate.HashSecret(secret), UserID: u.ID, OrgID: u.OrgID,
		CreatedAt: now, LastUsedAt: now, ExpiresAt: minTime(now.Add(SSOIdle+UseAllowance), abs), AbsoluteExpiresAt: abs}
	ev := s.audit(ctx, "sso_token.issue", "sso_token", t.ID, u.OrgID)
	ev.ActorKind, ev.ActorID = verigate.PrincipalServiceAccount, u.ID
	if err := s.store.CreateSSOToken(ctx, t, ev); err != nil {
		return "", nil, err
	}
	return secret, t, nil
}

// SSOSession is a verified SSO token with who it acts as.
type SSOSession struct {
	Token     *verigate.SSOToken
	User      *verigate.User
	Org       *verigate.Organization
	Principal *verigate.Principal
}

// VerifySSOToken authenticates an SSO token. It does not slide the
// window: call SlideSSOToken once the request has succeeded.
func (s *Service) VerifySSOToken(ctx context.Context, secret string) (*SSOSession, error) {
	secret = strings.ToLower(secret)
	if !isGUID(secret) {
		return nil, ErrInvalidSSOToken
	}
	hash := verigate.HashSecret(secret)
	now := s.now()
	if e := s.lookup(ctx, ssoCacheKey(hash), now); e != nil {
		return e.sso, nil
	}
	gen := s.creds.generation()
	t, err := s.store.GetSSOTokenByHash(ctx, hash)
	if verigate.ErrorCode(err) == verigate.ENOTFOUND {
		return nil, ErrInvalidSSOToken
	} else if err != nil {
		return nil, err
	}
	if t.RevokedAt != nil || !now.Before(t.ExpiresAt) || !now.Before(t.AbsoluteExpiresAt) {
		return nil, ErrInvalidSSOToken
	}
	u, err := s.store.GetUser(ctx, t.UserID)
	if err != nil {
		return nil, err
	}
	if active, err := s.userActive(ctx, u); err != nil {
		return nil, err
	} else if !active {
		return nil, ErrInvalidSSOToken
	}
	org, err := s.store.GetOrganization(ctx, t.OrgID)
	if err != nil {
		return nil, err
	}
	p, err := s.ssoPrincipal(ctx, u)
	if err != nil {
		return nil, err
	}
	sess := &SSOSession{Token: t, User: u, Org: org, Principal: p}
	s.creds.store(&cached{key: ssoCacheKey(hash), gen: gen, at: now, fixedEnd: &t.AbsoluteExpiresAt, sso: sess})
	return sess, nil
}

// ssoPrincipal is who an SSO token of service account u acts as.
func (s *Service) ssoPrincipal(ctx context.Context, u *verigate.User) (*verigate.Principal, error) {
	reach, err := s.reach(ctx, u.OrgID)
	if err != nil {
		return nil, err
	}
	perms, err := s.Permissions(ctx, u)
	if err != nil {
		return nil, err
	}
	return &verigate.Principal{Kind: verigate.PrincipalServiceAccount, ID: u.ID, UserID: u.ID, OrgID: u.OrgID,
		Permissions: perms, Orgs: reach, Mode: verigate.ModeLive}, nil
}

// SlideSSOToken records a successful request: the token expires 30
// minutes later plus UseAllowance (never past its absolute cap). The write
// happens at most once per UseAllowance per token.
func (s *Service) SlideSSOToken(ctx context.Context, t *verigate.SSOToken) error {
	now := s.now()
	if now.Sub(t.LastUsedAt) < UseAllowance {
		return nil
	}
	exp := minTime(now.Add(SSOIdle+UseAllowance), t.AbsoluteExpiresAt)
	if err := s.store.SlideSSOToken(ctx, t.ID, now, exp); err != nil {
		return err
	}
	s.creds.replace(ssoCacheKey(t.Hash), func(e *cached) {
		slid, sess := *e.sso.Token, *e.sso
		slid.LastUsedAt, slid.ExpiresAt = now, exp
		sess.Token = &slid
		e.sso = &sess
	})
	return nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// RevokeSSOToken ends an SSO session.
func (s *Service) RevokeSSOToken(ctx context.Context, t *verigate.SSOToken) error {
	return s.store.RevokeSSOToken(ctx, t.ID, s.audit(ctx, "sso_token.revoke", "sso_token", t.ID, t.OrgID))
}

// IssueLoginToken mints a single-use, 30-minute token that signs operator
// requestedBy into one institution's dashboard.
func (s *Service) IssueLoginToken(ctx context.Context, institution *verigate.Organization, requestedBy string) (string, *verigate.LoginToken, error) {
	if err := verigate.Authorize(ctx, "organizations.read", verigate.Object{Org: institution.ID}, ErrOrganizationNotFound); err != nil {
		return "", nil, err
	}
	if institution.Kind != verigate.OrgInstitution {
		return "", nil, verigate.Errorf(verigate.EINVALID, "Login tokens open an institution's dashboard; %q is a %s.", institution.Key, institution.Kind)
	}
	if err := verigate.ValidateUsername("operator", requestedBy); err != nil {
		return "", nil, err
	}
	b := make([]byte, 32)
	rand.Read(b)
	secret := hex.EncodeToString(b)
	now := s.now()
	issuer := verigate.PrincipalFrom(ctx)
	issuedBy := issuer.UserID // the user, whatever credential it used
	if issuedBy == "" {
		issuedBy = issuer.ID // the system
	}
	t := &verigate.LoginToken{ID: verigate.NewID(), Hash: verigate.HashSecret(secret), OrgID: institution.ID,
		IssuedBy: issuedBy, RequestedBy: requestedBy, CreatedAt: now, ExpiresAt: now.Add(LoginTokenTTL)}
	if err := s.store.CreateLoginToken(ctx, t, s.audit(ctx, "login_token.issue", "login_token", t.ID, institution.ID)); err != nil {
		return "", nil, err
	}
	return secret, t, nil
}

// RedeemLoginToken uses a login token up: the first call returns it, any
// later one (or one after expiry) is EUNAUTHENTICATED.
func (s *Service) RedeemLoginToken(ctx context.Context, secret string) (*verigate.LoginToken, error) {
	bad := verigate.Errorf(verigate.EUNAUTHENTICATED, "Invalid, used or expired login token.")
	if len(secret) != 64 {
		return nil, bad
	}
	ev := s.audit(ctx, "login_token.redeem", "login_token", "", "")
	t, err := s.store.RedeemLoginToken(ctx, verigate.HashSecret(secret), s.now(), ev)
	if verigate.ErrorCode(err) == verigate.ENOTFOUND {
		return nil, bad
	}
	if err != nil {
		return nil, err
	}
	if active, err := s.orgActive(ctx, t.OrgID); err != nil {
		return nil, err
	} else if !active {
		return nil, bad
	}
	// Disabling the user who issued it kills it too.
	if issuer, err := s.store.GetUser(ctx, t.IssuedBy); err == nil {
		if active, err := s.userActive(ctx, issuer); err != nil {
			return nil, err
		} else if !active || issuer.DeletedAt != nil {
			return nil, bad
		}
	}
	return t, nil
}
