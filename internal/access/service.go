// Package access is identity and access: organizations, users, passwords,
// credentials (onboarding access tokens, API keys) and the permission
// check every surface uses.
package access

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/verigate/verigate"
)

// Store is the persistence access needs; internal/sqlstore implements it.
// Every mutation takes the audit event to write in the same transaction.
type Store interface {
	RoleStore
	TokenStore
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
}

// New returns a Service on store with the default parameters.
func New(store Store) *Service {
	s := &Service{store: store, Now: time.Now, hashSlots: make(chan struct{}, max(2, runtime.NumCPU()))}
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

// authorize checks that the principal in ctx holds perm on org. An
// organization outside the principal's reach answers as if it did not
// exist (ENOTFOUND), so tenants cannot probe each other.
func authorize(ctx context.Context, perm verigate.Permission, org *verigate.Organization, what string) error {
	p := verigate.PrincipalFrom(ctx)
	if p == nil {
		return verigate.Errorf(verigate.EUNAUTHENTICATED, "Authentication required.")
	}
	if p.Kind == verigate.PrincipalSystem {
		return nil
	}
	if org != nil && !slices.Contains(p.Orgs, org.ID) {
		return verigate.Errorf(verigate.ENOTFOUND, "%s not found.", what)
	}
	if !slices.Contains(p.Permissions, perm) {
		return verigate.Errorf(verigate.EFORBIDDEN, "Missing permission %s.", perm)
	}
	return nil
}

// AuditEvents lists audit events, newest first. Without an organization in
// the filter only the system principal may list.
func (s *Service) AuditEvents(ctx context.Context, f verigate.AuditFilter) ([]verigate.AuditEvent, error) {
	var org *verigate.Organization
	if f.OrgID != "" {
		org = &verigate.Organization{ID: f.OrgID}
	} else if p := verigate.PrincipalFrom(ctx); p == nil || p.Kind != verigate.PrincipalSystem {
		return nil, verigate.FieldError("organization", "is required")
	}
	if err := authorize(ctx, "audit.read", org, "Organization"); err != nil {
		return nil, err
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
	if err := authorize(ctx, perm, o, "Organization"); err != nil {
		return nil, err
	}
	return o, nil
}
