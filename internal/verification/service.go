// Package verification is the verification engine: sessions with
// applicant links, the data-source catalog, steps per selected source,
// Reclaim proofs, the reviewer queue and expiry. The Partner API, the
// journey and /v1 share it.
package verification

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/reclaim"
)

// Store is the persistence the engine needs; internal/sqlstore implements it.
type Store interface {
	UpsertVerificationTypes(ctx context.Context, types []verigate.VerificationType) error
	ListVerificationTypes(ctx context.Context) ([]verigate.VerificationType, error)
	UpsertSources(ctx context.Context, sources []*verigate.DataSource, ev *verigate.AuditEvent) error
	ListSources(ctx context.Context) ([]*verigate.DataSource, error)
	GetSource(ctx context.Context, id int64) (*verigate.DataSource, error)
	OrgChain(ctx context.Context, id string) ([]string, error)
	SourceSettings(ctx context.Context, orgIDs []string) (map[string]map[int64]bool, error)
	SetSourceEnabled(ctx context.Context, orgID string, sourceID int64, enabled bool, ev verigate.AuditEvent) error
	SetReviewPolicy(ctx context.Context, orgID, policy string, ev verigate.AuditEvent) error
	ReviewPolicy(ctx context.Context, orgID string) (policy string, number int64, err error)

	CreateSession(ctx context.Context, s *verigate.Session, steps []*verigate.Step, audit []verigate.AuditEvent, events []verigate.OutboxEvent) error
	GetSession(ctx context.Context, id int64) (*verigate.Session, error)
	GetSessionByLinkHash(ctx context.Context, hash []byte) (*verigate.Session, error)
	ListSessions(ctx context.Context, f verigate.SessionFilter) ([]*verigate.Session, int, error)
	DueSessions(ctx context.Context, now time.Time, afterID int64, limit int) ([]int64, error)
	GetStep(ctx context.Context, id int64) (*verigate.Step, error)
	ListSteps(ctx context.Context, sessionID int64) ([]*verigate.Step, error)
	ApplySessionChange(ctx context.Context, ch verigate.SessionChange) error
	ProofUsed(ctx context.Context, identifier string) (bool, error)

	CreateCSRFToken(ctx context.Context, hash []byte, sessionID int64, linkHash []byte, created, expires time.Time) error
	GetCSRFToken(ctx context.Context, hash []byte) (sessionID int64, expires time.Time, err error)
	PurgeExpired(ctx context.Context, now, idempotencySince time.Time) error

	GetOrganization(ctx context.Context, id string) (*verigate.Organization, error)
	GetOrganizationByKey(ctx context.Context, key string) (*verigate.Organization, error)
	OrgChainActive(ctx context.Context, id string) (bool, error)
}

// Config is what the engine needs from the deployment.
type Config struct {
	PublicURL    string // base of the manual verification link
	DeeplinkURL  string // base of the deep link (default PublicURL + "/verification-request")
	ReclaimAppID string
	// Attestors are the trusted Reclaim attestors (default Reclaim's
	// public one); test-mode sessions also trust the sandbox attestor.
	Attestors     []string
	MinSignatures int
	MaxProofAge   time.Duration
	// SecretKey derives the sandbox attestor's key.
	SecretKey string
}

// Timing.
const (
	CSRFTTL          = 15 * time.Minute
	MaxSessionLife   = 365 * 24 * time.Hour
	SDKSessionLife   = 24 * time.Hour
	DefaultProofAge  = 24 * time.Hour
	MaxStepsPerSess  = 20
	MaxJSONFieldSize = 16 << 10
)

// Service is the engine.
type Service struct {
	store   Store
	conns   Connections
	cfg     Config
	sandbox *secp256k1.PrivateKey
	// Now is the clock; tests replace it.
	Now func() time.Time
}

// New returns the engine; conns carries out its connector steps.
func New(store Store, conns Connections, cfg Config) *Service {
	if cfg.DeeplinkURL == "" {
		cfg.DeeplinkURL = cfg.PublicURL + "/verification-request"
	}
	if cfg.ReclaimAppID == "" {
		cfg.ReclaimAppID = "verigate"
	}
	if len(cfg.Attestors) == 0 {
		cfg.Attestors = []string{reclaim.PublicAttestor}
	}
	if cfg.MinSignatures < 1 {
		cfg.MinSignatures = 1
	}
	if cfg.MaxProofAge == 0 {
		cfg.MaxProofAge = DefaultProofAge
	}
	seed := sha256.Sum256([]byte("verigate sandbox attestor\x00" + cfg.SecretKey))
	return &Service{store: store, conns: conns, cfg: cfg, sandbox: secp256k1.PrivKeyFromBytes(seed[:]), Now: time.Now}
}

func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Millisecond) }

// SandboxAttestor is the address of the sandbox attestor, trusted for
// test-mode sessions only.
func (s *Service) SandboxAttestor() string { return reclaim.Address(s.sandbox.PubKey()) }

func sessionIDString(id int64) string { return strconv.FormatInt(id, 10) }

// ErrSessionNotFound answers a session that does not exist or is outside
// the caller's reach.
var ErrSessionNotFound = verigate.Errorf(verigate.ENOTFOUND, "Session not found")

// ErrOutsideSession answers an applicant's request about anything that is
// not part of its own session, whether or not it exists.
var ErrOutsideSession = verigate.Errorf(verigate.EFORBIDDEN, "This CSRF token belongs to another verification session.")

// partner returns the API-key principal in ctx holding perm.
func partner(ctx context.Context, perm verigate.Permission) (*verigate.Principal, error) {
	p := verigate.PrincipalFrom(ctx)
	if p == nil || p.Kind == verigate.PrincipalApplicant {
		return nil, verigate.Errorf(verigate.EUNAUTHENTICATED, "An API key is required.")
	}
	if p.Kind != verigate.PrincipalSystem && !slices.Contains(p.Permissions, perm) {
		return nil, verigate.Errorf(verigate.EFORBIDDEN, "This API key lacks the %s scope.", verigate.PermissionScope(perm))
	}
	return p, nil
}

// sessionFor returns a session the partner principal may see.
func (s *Service) sessionFor(ctx context.Context, p *verigate.Principal, id int64) (*verigate.Session, error) {
	sess, err := s.store.GetSession(ctx, id)
	if verigate.ErrorCode(err) == verigate.ENOTFOUND {
		return nil, ErrSessionNotFound
	} else if err != nil {
		return nil, err
	}
	if p.Kind != verigate.PrincipalSystem && (!slices.Contains(p.Orgs, sess.OrgID) || p.Mode != sess.Mode) {
		return nil, ErrSessionNotFound
	}
	return sess, nil
}

func (s *Service) audit(ctx context.Context, action, targetKind, targetID, orgID string) verigate.AuditEvent {
	return verigate.NewAuditEvent(ctx, s.now(), action, targetKind, targetID, orgID)
}

func orEmpty(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return json.RawMessage("{}")
	}
	return raw
}

// AppID is the Reclaim application id partners' apps request proofs with.
func (s *Service) AppID() string { return s.cfg.ReclaimAppID }

// sessionOrg is the organization a new session belongs to: the one
// institutionKey names (one of the key's institutions), or else the key's
// home organization. Either must be enabled, with its ancestors.
func (s *Service) sessionOrg(ctx context.Context, p *verigate.Principal, institutionKey string) (*verigate.Organization, error) {
	if institutionKey != "" {
		inst, err := s.store.GetOrganizationByKey(ctx, institutionKey)
		if verigate.ErrorCode(err) == verigate.ENOTFOUND || (err == nil && (!slices.Contains(p.Orgs, inst.ID) || inst.Kind != verigate.OrgInstitution)) {
			return nil, verigate.FieldError("params.institutionKey", "is not one of this key's institutions")
		} else if err != nil {
			return nil, err
		}
		if active, err := s.store.OrgChainActive(ctx, inst.ID); err != nil {
			return nil, err
		} else if !active {
			return nil, verigate.FieldError("params.institutionKey", "names a disabled organization")
		}
		return inst, nil
	}
	home := p.HomeOrg()
	if home == "" {
		return nil, verigate.Errorf(verigate.EFORBIDDEN, "This API key's account list names no organization to create in.")
	}
	org, err := s.store.GetOrganization(ctx, home)
	if err != nil {
		return nil, err
	}
	if active, err := s.store.OrgChainActive(ctx, org.ID); err != nil {
		return nil, err
	} else if !active {
		return nil, verigate.Errorf(verigate.EFORBIDDEN, "This API key's organization is disabled.")
	}
	return org, nil
}
