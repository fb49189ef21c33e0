// Package access is identity and access: organizations, users, passwords,
// credentials (onboarding access tokens, API keys) and the permission
// check every surface uses.
package access

import (
	"context"
	"runtime"
	"sync"
	"time"

	"github.com/verigate/verigate"
)

// Store is the persistence access needs; internal/sqlstore implements it.
// Every mutation takes the audit event to write in the same transaction.
type Store interface {
	RoleStore
	TokenStore
	GenerationStore
	CreateOrganization(ctx context.Context, o *verigate.Organization, ev verigate.AuditEvent) error
	UpdateOrganization(ctx context.Context, o *verigate.Organization, ev verigate.AuditEvent) error
	GetOrganization(ctx context.Context, id string) (*verigate.Organization, error)
	GetOrganizationByKey(ctx context.Context, key string) (*verigate.Organization, error)
	ListOrganizations(ctx context.Context, f verigate.OrgFilter) ([]*verigate.Organization, error)
	OrgReach(ctx context.Context, id string) ([]string, error)
	OrgChainActive(ctx context.Context, id string) (bool, error)
	ConnectionOrgs(ctx context.Context, ids []string) (map[string]string, error)

	CreateUser(ctx context.Context, u *verigate.User, ev verigate.AuditEvent) error
	GetUser(ctx context.Context, id string) (*verigate.User, error)
	GetUserByEmail(ctx context.Context, email string) (*verigate.User, error)
	ListUsers(ctx context.Context, orgID string) ([]*verigate.User, error)
	UpdateUser(ctx context.Context, u *verigate.User, ev verigate.AuditEvent) error
	SetPasswordHash(ctx context.Context, userID, hash string, ev verigate.AuditEvent) error

	SigninFailures(ctx context.Context, email string) (failures int, lockedUntilMS int64, err error)
	CountSigninAttempt(ctx context.Context, email string, lock func(failures int) int64, at time.Time) (failures int, prevLockedUntilMS int64, err error)
	ClearSigninFailures(ctx context.Context, email string) error

	CreateAccessToken(ctx context.Context, t *verigate.AccessToken, ev verigate.AuditEvent) error
	GetAccessToken(ctx context.Context, id string) (*verigate.AccessToken, error)
	GetAccessTokenByHash(ctx context.Context, hash []byte) (*verigate.AccessToken, error)
	ListAccessTokens(ctx context.Context, orgID string) ([]*verigate.AccessToken, error)
	RevokeAccessToken(ctx context.Context, id string, ev verigate.AuditEvent) error
	TouchAccessToken(ctx context.Context, id string, at time.Time) error

	CreateAPIKey(ctx context.Context, k *verigate.APIKey, ev verigate.AuditEvent) error
	GetAPIKey(ctx context.Context, id string) (*verigate.APIKey, error)
	ListAPIKeys(ctx context.Context, orgID string) ([]*verigate.APIKey, error)
	RevokeAPIKey(ctx context.Context, id string, ev verigate.AuditEvent) error
	TouchAPIKey(ctx context.Context, id string, at time.Time) error

	CreateSSOToken(ctx context.Context, t *verigate.SSOToken, ev verigate.AuditEvent) error
	GetSSOTokenByHash(ctx context.Context, hash []byte) (*verigate.SSOToken, error)
	SlideSSOToken(ctx context.Context, id string, at, expires time.Time) error
	RevokeSSOToken(ctx context.Context, id string, ev verigate.AuditEvent) error
	CreateLoginToken(ctx context.Context, t *verigate.LoginToken, ev verigate.AuditEvent) error
	RedeemLoginToken(ctx context.Context, hash []byte, at time.Time, ev verigate.AuditEvent) (*verigate.LoginToken, error)

	CreateDashboardSession(ctx context.Context, d *verigate.DashboardSession, ev verigate.AuditEvent) error
	GetDashboardSessionByHash(ctx context.Context, hash []byte) (*verigate.DashboardSession, error)
	SlideDashboardSession(ctx context.Context, id string, at, expires time.Time) error
	SetDashboardSessionView(ctx context.Context, id, orgID string, mode verigate.Mode, ev verigate.AuditEvent) error
	RevokeDashboardSession(ctx context.Context, id string, ev verigate.AuditEvent) error

	RecordAudit(ctx context.Context, ev verigate.AuditEvent) error
	ListAuditEvents(ctx context.Context, f verigate.AuditFilter) ([]verigate.AuditEvent, error)
}

// Service is the access core.
type Service struct {
	store Store
	// Now is the clock; tests replace it.
	Now func() time.Time
	// SessionMaxAge caps an SSO token's or Embedded user token's life
	// after sign-in, however much it is used (0: DefaultSessionMaxAge).
	SessionMaxAge time.Duration
	// Argon2 are the parameters new hashes use; a stored hash made with
	// others is replaced on the next successful sign-in.
	Argon2 Argon2Params
	// dummyHash is verified against for unknown emails, so that they take
	// as long as a wrong password. Made on first use: argon2id's 19 MiB
	// would otherwise cost every start-up time and resident memory.
	dummyHash func() string
	// hashSlots bounds concurrent argon2id work (19 MiB each), so a flood of
	// sign-ins cannot exhaust memory.
	hashSlots chan struct{}
	// JWTKey signs the dashboard's JWTs (JWTKey derives it; empty: the
	// /api surface signs no one in).
	JWTKey []byte
	// creds is the credential cache (nil: off); see CacheCredentials.
	creds *credCache
}

// New returns a Service on store with the default parameters.
func New(store Store) *Service {
	s := &Service{Now: time.Now, hashSlots: make(chan struct{}, max(2, runtime.NumCPU()))}
	s.store = invalidating{Store: store, s: s}
	s.SetArgon2(DefaultArgon2)
	return s
}

// SetArgon2 changes the hashing parameters (tests use cheap ones).
func (s *Service) SetArgon2(p Argon2Params) {
	s.Argon2 = p
	s.dummyHash = sync.OnceValue(func() string { return hashPassword(verigate.NewSecret(""), p) })
}

func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Millisecond) }

func (s *Service) audit(ctx context.Context, action, targetKind, targetID, orgID string) verigate.AuditEvent {
	return verigate.NewAuditEvent(ctx, s.now(), action, targetKind, targetID, orgID)
}

// What a missing object, or one out of the caller's reach, answers:
// the same for both (verigate.Authorize), so tenants cannot probe each
// other.
var (
	ErrOrganizationNotFound = verigate.Errorf(verigate.ENOTFOUND, "Organization not found.")
	ErrAccountNotFound      = verigate.Errorf(verigate.ENOTFOUND, "Account not found.")
	ErrUserNotFound         = verigate.Errorf(verigate.ENOTFOUND, "User not found.")
	ErrRoleNotFound         = verigate.Errorf(verigate.ENOTFOUND, "Role not found.")
	ErrTokenNotFound        = verigate.Errorf(verigate.ENOTFOUND, "Token not found.")
	ErrAccessTokenNotFound  = verigate.Errorf(verigate.ENOTFOUND, "Access token not found.")
	ErrAPIKeyNotFound       = verigate.Errorf(verigate.ENOTFOUND, "API key not found.")
)

// AuditEvents lists audit events, newest first. Without an organization in
// the filter only the system principal may list.
func (s *Service) AuditEvents(ctx context.Context, f verigate.AuditFilter) ([]verigate.AuditEvent, error) {
	if f.OrgID == "" {
		if p := verigate.PrincipalFrom(ctx); p == nil || p.Kind != verigate.PrincipalSystem {
			return nil, verigate.FieldError("organization", "is required")
		}
	}
	if err := verigate.Authorize(ctx, "audit.read", verigate.Object{Org: f.OrgID}, ErrOrganizationNotFound); err != nil {
		return nil, err
	}
	for name, v := range map[string]string{"action": f.Action, "targetId": f.TargetID, "actor": f.ActorID} {
		if verigate.TooLong(v, 200) {
			return nil, verigate.FieldError(name, "must be at most 200 characters")
		}
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		return nil, verigate.FieldError("until", "must be after since")
	}
	if f.Before < 0 {
		return nil, verigate.FieldError("before", "must be an id from the previous page")
	}
	return s.store.ListAuditEvents(ctx, f)
}

// orgFor looks up the organization with key and checks that the caller
// holds perm on it.
func (s *Service) orgFor(ctx context.Context, key string, perm verigate.Permission) (*verigate.Organization, error) {
	o, err := s.store.GetOrganizationByKey(ctx, key)
	if err != nil {
		return nil, err
	}
	if err := verigate.Authorize(ctx, perm, verigate.Object{Org: o.ID}, ErrOrganizationNotFound); err != nil {
		return nil, err
	}
	return o, nil
}
