// Package verification is the verification engine: sessions with
// applicant links, the data-source catalog, steps per selected source,
// Reclaim proofs, the reviewer queue and expiry. The Partner API, the
// journey and /v1 share it.
package verification

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"strconv"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/reclaim"
	"github.com/verigate/verigate/internal/seal"
)

// Store is the persistence the engine needs; internal/sqlstore implements it.
type Store interface {
	JourneyStore
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
	// GetStepSession reads a step with its session in one query.
	GetStepSession(ctx context.Context, id int64) (*verigate.Step, *verigate.Session, error)
	ListSteps(ctx context.Context, sessionID int64) ([]*verigate.Step, error)
	ApplySessionChange(ctx context.Context, ch verigate.SessionChange) error
	ProofUsed(ctx context.Context, identifier string) (bool, error)

	// CreateVerification is CreateSession with the session's own webhook
	// endpoint (when not nil) and, if its organization has none yet, its
	// verification secret, in one transaction.
	CreateVerification(ctx context.Context, s *verigate.Session, steps []*verigate.Step, audit []verigate.AuditEvent,
		events []verigate.OutboxEvent, e *verigate.WebhookEndpoint, secret *verigate.VerificationSecret) error
	ListVerifications(ctx context.Context, f verigate.VerificationFilter) ([]*verigate.Session, error)
	SessionWebhookURL(ctx context.Context, sessionID int64) (string, error)
	SessionEvents(ctx context.Context, orgID string, sessionID int64, limit int) ([]verigate.Event, error)
	// VerificationsPerDay and VerificationFunnel are the overview's
	// aggregates (one query each).
	VerificationsPerDay(ctx context.Context, f verigate.StatsFilter) ([]verigate.DayStatusCount, error)
	VerificationFunnel(ctx context.Context, f verigate.StatsFilter) (verigate.FunnelCounts, error)

	CreateCSRFToken(ctx context.Context, hash []byte, sessionID int64, linkHash []byte, created, expires time.Time) error
	ExtendCSRFToken(ctx context.Context, hash []byte, until, createdAfter time.Time) (bool, error)
	// ApplicantToken reads a CSRF token with its session's organization,
	// mode and chain state in one query.
	ApplicantToken(ctx context.Context, hash []byte) (verigate.ApplicantToken, error)
	PurgeExpired(ctx context.Context, now, idempotencySince time.Time) error

	GetOrganization(ctx context.Context, id string) (*verigate.Organization, error)
	GetOrganizationByKey(ctx context.Context, key string) (*verigate.Organization, error)
	OrgChainActive(ctx context.Context, id string) (bool, error)
	// SessionOrg reads what a new session needs of its organization
	// (by id, or by key when byKey) in one query: the organization, its
	// chain of ids nearest first, whether the chain is active, its number.
	SessionOrg(ctx context.Context, idOrKey string, byKey bool) (org *verigate.Organization, chain []string, active bool, number int64, err error)
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
	ApplicantTokenTTL = 15 * time.Minute
	MaxSessionLife    = 365 * 24 * time.Hour
	SDKSessionLife    = 24 * time.Hour
	DefaultProofAge   = 24 * time.Hour
	MaxStepsPerSess   = 20
	MaxJSONFieldSize  = 16 << 10
)

// Service is the engine.
type Service struct {
	store   Store
	conns   Connections
	cfg     Config
	sandbox *secp256k1.PrivateKey
	cache   catalogCache
	links   *seal.Sealer // the link tokens, kept to be shown again
	// callbackSecret keys the steps' callback keys (callback.go).
	callbackSecret []byte
	// Webhooks checks a verification's own webhookUrl and signs the
	// redirect back to its creator; without it a webhookUrl is refused
	// and ReturnURL fails.
	Webhooks Webhooks
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
	callback := sha256.Sum256([]byte("verigate reclaim callback key\x00" + cfg.SecretKey))
	return &Service{store: store, conns: conns, cfg: cfg, sandbox: secp256k1.PrivKeyFromBytes(seed[:]),
		links: seal.New(cfg.SecretKey, "verigate link tokens v1"), callbackSecret: callback[:], Now: time.Now}
}

func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Millisecond) }

// SandboxAttestor is the address of the sandbox attestor, trusted for
// test-mode sessions only.
func (s *Service) SandboxAttestor() string { return reclaim.Address(s.sandbox.PubKey()) }

func sessionIDString(id int64) string { return strconv.FormatInt(id, 10) }

// ErrSessionNotFound answers a session that does not exist or is outside
// the caller's reach.
var ErrSessionNotFound = verigate.Errorf(verigate.ENOTFOUND, "Session not found")

// ErrStepNotFound answers a step that does not exist or is outside the
// caller's reach.
var ErrStepNotFound = verigate.Errorf(verigate.ENOTFOUND, "Step not found")

var errOrganizationNotFound = verigate.Errorf(verigate.ENOTFOUND, "Organization not found.")

// wholeSession is a session as a whole — its link, its results, its
// review — which belongs to its organization: no applicant reaches it,
// not even its own.
func wholeSession(sess *verigate.Session) verigate.Object {
	return verigate.Object{Org: sess.OrgID, Mode: sess.Mode}
}

// sessionPart is what a session's applicant works on: its choice of
// sources and its steps, part of the session.
func sessionPart(sess *verigate.Session) verigate.Object {
	return verigate.Object{Org: sess.OrgID, Mode: sess.Mode, Session: sess.ID}
}

// own is what a principal acts on when it names nothing: an applicant
// its own session, anyone else nothing in particular.
func own(ctx context.Context) verigate.Object {
	if p := verigate.PrincipalFrom(ctx); p != nil {
		return verigate.Object{Session: p.SessionID}
	}
	return verigate.Object{}
}

// session returns session id when the principal in ctx may use perm on
// it; as says what of it is acted on (wholeSession or sessionPart).
func (s *Service) session(ctx context.Context, perm verigate.Permission, id int64, as func(*verigate.Session) verigate.Object) (*verigate.Session, error) {
	sess, err := s.store.GetSession(ctx, id)
	if verigate.ErrorCode(err) == verigate.ENOTFOUND {
		return nil, verigate.Authorize(ctx, perm, verigate.Missing, ErrSessionNotFound)
	} else if err != nil {
		return nil, err
	}
	obj := as(sess)
	if err := verigate.Authorize(ctx, perm, obj, ErrSessionNotFound); err != nil {
		return nil, err
	}
	return sess, nil
}

// step returns step id and its session when the principal in ctx may use
// perm on it (as part of its session).
func (s *Service) step(ctx context.Context, perm verigate.Permission, id int64) (*verigate.Step, *verigate.Session, error) {
	st, sess, err := s.store.GetStepSession(ctx, id)
	if verigate.ErrorCode(err) == verigate.ENOTFOUND {
		return nil, nil, verigate.Authorize(ctx, perm, verigate.Missing, ErrStepNotFound)
	} else if err != nil {
		return nil, nil, err
	}
	obj := sessionPart(sess)
	if err := verigate.Authorize(ctx, perm, obj, ErrStepNotFound); err != nil {
		return nil, nil, err
	}
	return st, sess, nil
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

// sessionOrg is the organization a new session belongs to: the one
// institutionKey names (an institution the principal reaches), or else
// the principal's home organization. Either must be enabled, with its
// ancestors. It returns the organization's chain (nearest first) and
// number too, all read in one query.
func (s *Service) sessionOrg(ctx context.Context, perm verigate.Permission, institutionKey string) (*verigate.Organization, []string, int64, error) {
	p := verigate.PrincipalFrom(ctx)
	if institutionKey != "" {
		// A missing, foreign or non-institution key: the same answer.
		notOurs := verigate.FieldError("institutionKey", "is not one of this credential's institutions")
		inst, chain, active, number, err := s.store.SessionOrg(ctx, institutionKey, true)
		if verigate.ErrorCode(err) == verigate.ENOTFOUND || (err == nil && inst.Kind != verigate.OrgInstitution) {
			return nil, nil, 0, verigate.Authorize(ctx, perm, verigate.Missing, notOurs)
		} else if err != nil {
			return nil, nil, 0, err
		}
		if err := verigate.Authorize(ctx, perm, verigate.Object{Org: inst.ID}, notOurs); err != nil {
			return nil, nil, 0, err
		}
		if !active {
			return nil, nil, 0, verigate.FieldError("institutionKey", "names a disabled organization")
		}
		return inst, chain, number, nil
	}
	home := p.HomeOrg()
	if home == "" {
		return nil, nil, 0, verigate.Errorf(verigate.EFORBIDDEN, "This credential's account list names no organization to create in.")
	}
	if err := verigate.Authorize(ctx, perm, verigate.Object{Org: home}, errOrganizationNotFound); err != nil {
		return nil, nil, 0, err
	}
	org, chain, active, number, err := s.store.SessionOrg(ctx, home, false)
	if err != nil {
		return nil, nil, 0, err
	}
	if !active {
		return nil, nil, 0, verigate.Errorf(verigate.EFORBIDDEN, "This credential's organization is disabled.")
	}
	return org, chain, number, nil
}
