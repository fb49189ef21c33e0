// Package delivery delivers events to webhook endpoints: the endpoint use
// cases (create, update, delete, rotate, test-fire, redeliver, replay),
// the delivery log, and the worker that dispatches events into messages
// and sends them. It speaks HTTP only through a Sender (internal/webhook
// makes the requests); it never imports net/http.
package delivery

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/seal"
)

// Store is the persistence delivery needs; internal/sqlstore implements it.
type Store interface {
	CreateWebhookEndpoint(ctx context.Context, e *verigate.WebhookEndpoint, keys verigate.WebhookKeys, ev verigate.AuditEvent) error
	GetWebhookEndpoint(ctx context.Context, id string) (*verigate.WebhookEndpoint, error)
	WebhookEndpointKeys(ctx context.Context, id string) (verigate.WebhookKeys, error)
	ListWebhookEndpoints(ctx context.Context, f verigate.WebhookEndpointFilter) ([]*verigate.WebhookEndpoint, error)
	UpdateWebhookEndpoint(ctx context.Context, e *verigate.WebhookEndpoint, keys *verigate.WebhookKeys, ev verigate.AuditEvent) error
	DeleteWebhookEndpoint(ctx context.Context, id string, ev verigate.AuditEvent) error
	OrgChainActive(ctx context.Context, id string) (bool, error)

	VerificationSecret(ctx context.Context, orgID string, mode verigate.Mode) (*verigate.VerificationSecret, error)
	PutVerificationSecret(ctx context.Context, s *verigate.VerificationSecret, ev verigate.AuditEvent) error
	CreateSessionWebhookEndpoint(ctx context.Context, e *verigate.WebhookEndpoint, secret *verigate.VerificationSecret) error
	EnsureVerificationSecret(ctx context.Context, secret *verigate.VerificationSecret) error

	GetWebhookMessage(ctx context.Context, id string) (*verigate.WebhookMessage, error)
	ListWebhookMessages(ctx context.Context, f verigate.WebhookMessageFilter) ([]*verigate.WebhookMessage, error)
	ListWebhookAttempts(ctx context.Context, messageID string) ([]verigate.WebhookAttempt, error)
	RedeliverWebhookMessage(ctx context.Context, id string, now time.Time, ev verigate.AuditEvent) error
	ReplayWebhookMessages(ctx context.Context, endpointID string, since time.Time, onlyFailed bool, now time.Time, ev verigate.AuditEvent) (int, error)
	InsertWebhookMessage(ctx context.Context, m *verigate.WebhookMessage, ev verigate.AuditEvent) error
	ListEventsIn(ctx context.Context, f verigate.EventFilter) ([]verigate.Event, error)

	Dispatch(ctx context.Context, now time.Time, limit int, render func(verigate.Event, *verigate.WebhookEndpoint) ([]byte, error)) (events, messages int, err error)
	ClaimWebhookMessages(ctx context.Context, now time.Time, lease time.Duration, maxEndpoints, batch int) ([]*verigate.WebhookBatch, error)
	RecordWebhookAttempts(ctx context.Context, recs []verigate.WebhookRecord) error
	PruneEvents(ctx context.Context, olderThan time.Time) (int, error)
	WebhookQueueStats(ctx context.Context) (verigate.WebhookQueueStats, error)
	WebhookAttemptStats(ctx context.Context, orgIDs []string, mode verigate.Mode, from, to time.Time) (verigate.WebhookStats, error)
	SubjectWebhookMessages(ctx context.Context, orgIDs []string, mode verigate.Mode, eventOrg, subject string, limit int) ([]*verigate.WebhookMessage, error)
}

// URLChecker checks an endpoint's URL (scheme, and the SSRF rules);
// webhook.Guard implements it. live is whether the endpoint is a live
// mode one (https required).
type URLChecker interface {
	CheckURL(ctx context.Context, raw string, live bool) error
}

// Options tune the service.
type Options struct {
	// RotationOverlap is how long a rotated secret still signs (24 h).
	RotationOverlap time.Duration
	// Reconbanker, when set, replaces Event.ReconbankerBody as the
	// renderer of Reconbanker's notification body (tests emit events of
	// their own); a nil body means that flavour receives nothing.
	Reconbanker func(e verigate.Event) ([]byte, error)
	Log         *slog.Logger
}

// DefaultRotationOverlap is how long a rotated secret still signs.
const DefaultRotationOverlap = 24 * time.Hour

// Limits on an endpoint's settings.
const (
	MaxDescription = 500
	MaxRateLimit   = 1000
	MaxURL         = 2048
	MaxAuthToken   = 512
)

// SealPurpose is the seal purpose of endpoint secrets and auth tokens.
const SealPurpose = "webhook-secret"

// Service is webhook delivery's core.
type Service struct {
	store Store
	urls  URLChecker
	seal  *seal.Sealer
	opts  Options
	log   *slog.Logger
	wake  func() // the worker's, once it is made
	// Now is the clock; tests replace it.
	Now func() time.Time
}

// New returns the service: secrets are sealed under secretKey, URLs
// checked by urls.
func New(store Store, secretKey string, urls URLChecker, opts Options) *Service {
	if opts.RotationOverlap <= 0 {
		opts.RotationOverlap = DefaultRotationOverlap
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: store, urls: urls, seal: seal.New(secretKey, SealPurpose), opts: opts, log: opts.Log,
		wake: func() {}, Now: time.Now}
}

func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Millisecond) }

// ErrNotFound answers an endpoint that does not exist or is outside the
// principal's reach (another tenant's, the other mode's).
var ErrNotFound = verigate.Errorf(verigate.ENOTFOUND, "Webhook endpoint not found.")

// ErrMessageNotFound answers a message that is not one of the endpoint's.
var ErrMessageNotFound = verigate.Errorf(verigate.ENOTFOUND, "Webhook message not found.")

// endpoint returns an endpoint the principal may use with perm, by the
// one rule: another tenant's answers exactly as a missing one.
func (s *Service) endpoint(ctx context.Context, perm verigate.Permission, id string) (*verigate.WebhookEndpoint, error) {
	e, err := s.store.GetWebhookEndpoint(ctx, id)
	if verigate.ErrorCode(err) == verigate.ENOTFOUND {
		return nil, verigate.Authorize(ctx, perm, verigate.Missing, ErrNotFound)
	} else if err != nil {
		return nil, err
	}
	if err := verigate.Authorize(ctx, perm, verigate.Object{Org: e.OrgID, Mode: e.Mode}, ErrNotFound); err != nil {
		return nil, err
	}
	return e, nil
}

// standalone is endpoint, for a change a verification's own endpoint
// does not take on its own.
func (s *Service) standalone(ctx context.Context, perm verigate.Permission, id string) (*verigate.WebhookEndpoint, error) {
	e, err := s.endpoint(ctx, perm, id)
	if err == nil && e.SessionID != 0 {
		return nil, ErrSessionEndpoint
	}
	return e, err
}

// EndpointInput is a new endpoint.
type EndpointInput struct {
	// OrgID is the organization it belongs to; empty is the principal's
	// home organization.
	OrgID       string
	URL         string
	Description string
	EventTypes  []verigate.EventType // empty: every type
	// Disabled creates it disabled (endpoints start enabled).
	Disabled        bool
	RateLimit       int
	IncludeChildren bool
	IncludePII      bool
	Flavour         verigate.WebhookFlavour // empty: standard
	AuthScheme      verigate.WebhookAuthScheme
	AuthToken       string
}

// EndpointUpdate changes an endpoint; nil fields stay as they are.
type EndpointUpdate struct {
	URL             *string
	Description     *string
	EventTypes      *[]verigate.EventType
	Enabled         *bool
	RateLimit       *int
	IncludeChildren *bool
	IncludePII      *bool
	Flavour         *verigate.WebhookFlavour
	// AuthScheme and AuthToken change together: a scheme needs a token,
	// and the empty scheme drops the token.
	AuthScheme *verigate.WebhookAuthScheme
	AuthToken  *string
}

// validate checks e's settings (the URL, live or not, by the checker) and
// the auth token that goes with its scheme.
func (s *Service) validate(ctx context.Context, e *verigate.WebhookEndpoint, token string, checkURL bool) error {
	if checkURL {
		if e.URL == "" || len(e.URL) > MaxURL {
			return verigate.FieldError("url", "must be an http or https URL of at most 2048 characters")
		}
		if err := s.urls.CheckURL(ctx, e.URL, e.Mode == verigate.ModeLive); err != nil {
			if ve, ok := err.(*verigate.Error); ok && len(ve.Fields) > 0 {
				return ve
			}
			return verigate.FieldError("url", strings.TrimPrefix(err.Error(), "webhook: "))
		}
	}
	if err := verigate.ValidateOptionalText("description", e.Description, MaxDescription); err != nil {
		return err
	}
	seen := map[verigate.EventType]bool{}
	for _, t := range e.EventTypes {
		if !verigate.IsWebhookEventType(t) {
			return verigate.FieldError("event_types", "names an unknown event type: "+string(t))
		}
		if seen[t] {
			return verigate.FieldError("event_types", "names "+string(t)+" twice")
		}
		seen[t] = true
	}
	if e.RateLimit < 0 || e.RateLimit > MaxRateLimit {
		return verigate.FieldError("rate_limit", "must be between 0 (unbounded) and 1000 messages per second")
	}
	if !e.Flavour.Valid() {
		return verigate.FieldError("flavour", "must be standard or reconbanker")
	}
	if !e.AuthScheme.Valid() {
		return verigate.FieldError("auth_scheme", "must be Bearer or Api-Key")
	}
	if e.AuthScheme == verigate.AuthNone {
		if token != "" {
			return verigate.FieldError("auth_token", "needs an auth_scheme")
		}
		return nil
	}
	if token == "" {
		return verigate.FieldError("auth_token", "is required with an auth_scheme")
	}
	// A header value: visible ASCII only, as the documents' pattern says.
	if len(token) > MaxAuthToken || strings.IndexFunc(token, func(r rune) bool { return r < '!' || r > '~' }) >= 0 {
		return verigate.FieldError("auth_token", "must be 1 to 512 visible ASCII characters (no spaces)")
	}
	return nil
}

// keptToken stands for the stored auth token when validating a change
// that keeps it.
const keptToken = "kept"

// authID is what an endpoint's auth token is sealed to (its secret is
// sealed to the endpoint's id): neither opens as the other.
func authID(endpointID string) string { return endpointID + "/auth" }

// Create makes an endpoint and returns it with its secret, shown this
// once.
func (s *Service) Create(ctx context.Context, in EndpointInput) (*verigate.WebhookEndpointSecret, error) {
	made, _, err := s.CreateEach(ctx, []EndpointInput{in})
	if err != nil {
		return nil, err
	}
	return made[0], nil
}

// MaxCreateEach bounds the endpoints one CreateEach makes.
const MaxCreateEach = 20

// CreateEach makes several endpoints (ExactPay's one per URL), each with
// its secret, shown this once. Every input is authorized and checked
// before any is written, so bad input writes nothing; on error, failed
// is the index of the input at fault (0 for an error of none in
// particular).
func (s *Service) CreateEach(ctx context.Context, ins []EndpointInput) (made []*verigate.WebhookEndpointSecret, failed int, err error) {
	if len(ins) == 0 || len(ins) > MaxCreateEach {
		return nil, 0, verigate.FieldError("url", "give 1 to 20 URLs")
	}
	type prepared struct {
		e     *verigate.WebhookEndpoint
		token string
	}
	var todo []prepared
	for i, in := range ins {
		e, err := s.prepare(ctx, in)
		if err != nil {
			return nil, i, err
		}
		todo = append(todo, prepared{e, in.AuthToken})
	}
	for i, p := range todo {
		secret := newSecret()
		keys := verigate.WebhookKeys{Secret: s.seal.Seal(p.e.ID, []byte(secret))}
		if p.token != "" {
			keys.AuthToken = s.seal.Seal(authID(p.e.ID), []byte(p.token))
		}
		ev := verigate.NewAuditEvent(ctx, p.e.CreatedAt, "webhook_endpoint.create", "webhook_endpoint", p.e.ID, p.e.OrgID)
		ev.Details = map[string]any{"url": p.e.URL, "flavour": string(p.e.Flavour)}
		if err := s.store.CreateWebhookEndpoint(ctx, p.e, keys, ev); err != nil {
			return nil, i, err
		}
		made = append(made, &verigate.WebhookEndpointSecret{Endpoint: p.e, Secret: secret})
	}
	return made, 0, nil
}

// prepare authorizes and checks a new endpoint, without writing it.
func (s *Service) prepare(ctx context.Context, in EndpointInput) (*verigate.WebhookEndpoint, error) {
	p := verigate.PrincipalFrom(ctx)
	org := in.OrgID
	if org == "" && p != nil {
		org = p.HomeOrg()
	}
	var mode verigate.Mode
	if p != nil {
		mode = p.Mode
	}
	if err := verigate.Authorize(ctx, "webhooks.create", verigate.Object{Org: org}, verigate.FieldError("organization", "is not one this credential reaches")); err != nil {
		return nil, err
	}
	if org == "" {
		return nil, verigate.Errorf(verigate.EFORBIDDEN, "This credential names no organization to create in.")
	}
	flavour := in.Flavour
	if flavour == "" {
		flavour = verigate.FlavourStandard
	}
	now := s.now()
	e := &verigate.WebhookEndpoint{ID: verigate.NewID(), OrgID: org, Mode: mode, URL: in.URL, Description: in.Description,
		EventTypes: in.EventTypes, IncludeChildren: in.IncludeChildren, IncludePII: in.IncludePII, Flavour: flavour,
		AuthScheme: in.AuthScheme, RateLimit: in.RateLimit, Enabled: !in.Disabled, CreatedAt: now, UpdatedAt: now}
	if err := s.validate(ctx, e, in.AuthToken, true); err != nil {
		return nil, err
	}
	if active, err := s.store.OrgChainActive(ctx, org); err != nil {
		return nil, err
	} else if !active {
		return nil, verigate.Errorf(verigate.EFORBIDDEN, "This organization is disabled.")
	}
	return e, nil
}

// Get returns an endpoint.
func (s *Service) Get(ctx context.Context, id string) (*verigate.WebhookEndpoint, error) {
	return s.endpoint(ctx, "webhooks.read", id)
}

// List returns a page of the endpoints in the principal's reach and mode,
// by id after the cursor after; limit is 1 to 100.
func (s *Service) List(ctx context.Context, after string, limit int) ([]*verigate.WebhookEndpoint, error) {
	if err := verigate.Authorize(ctx, "webhooks.read", verigate.Object{}, nil); err != nil {
		return nil, err
	}
	if limit < 1 || limit > 100 {
		return nil, verigate.FieldError("limit", "must be between 1 and 100")
	}
	p := verigate.PrincipalFrom(ctx)
	orgs := p.Orgs
	if p.Kind == verigate.PrincipalSystem {
		orgs = []string{p.OrgID}
	}
	list, err := s.store.ListWebhookEndpoints(ctx, verigate.WebhookEndpointFilter{OrgIDs: orgs, Mode: p.Mode, After: after, Limit: limit})
	if list == nil && err == nil {
		list = []*verigate.WebhookEndpoint{}
	}
	return list, err
}

// Update changes an endpoint's settings. Re-enabling it clears its
// failing time and why it was disabled.
func (s *Service) Update(ctx context.Context, id string, in EndpointUpdate) (*verigate.WebhookEndpoint, error) {
	e, err := s.standalone(ctx, "webhooks.update", id)
	if err != nil {
		return nil, err
	}
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&e.URL, in.URL)
	set(&e.Description, in.Description)
	if in.EventTypes != nil {
		e.EventTypes = *in.EventTypes
	}
	if in.RateLimit != nil {
		e.RateLimit = *in.RateLimit
	}
	if in.IncludeChildren != nil {
		e.IncludeChildren = *in.IncludeChildren
	}
	if in.IncludePII != nil {
		e.IncludePII = *in.IncludePII
	}
	if in.Flavour != nil {
		e.Flavour = *in.Flavour
	}
	if in.Enabled != nil && *in.Enabled != e.Enabled {
		e.Enabled = *in.Enabled
		e.DisabledReason, e.FailingSince = "", time.Time{}
		if !e.Enabled {
			e.DisabledReason = "disabled by a user"
		}
	}
	// The auth token: a new one replaces it, the empty scheme drops it,
	// and a scheme without a new token keeps the one stored (if any).
	var keys *verigate.WebhookKeys
	token := ""
	if in.AuthScheme != nil || in.AuthToken != nil {
		k, err := s.store.WebhookEndpointKeys(ctx, e.ID)
		if err != nil {
			return nil, err
		}
		if in.AuthScheme != nil {
			e.AuthScheme = *in.AuthScheme
		}
		switch {
		case in.AuthToken != nil:
			token = *in.AuthToken
			k.AuthToken = nil
			if token != "" {
				k.AuthToken = s.seal.Seal(authID(e.ID), []byte(token))
			}
		case e.AuthScheme == verigate.AuthNone:
			k.AuthToken = nil
		case k.AuthToken != nil:
			token = keptToken
		}
		keys = &k
	} else if e.AuthScheme != verigate.AuthNone {
		token = keptToken
	}
	if err := s.validate(ctx, e, token, in.URL != nil); err != nil {
		return nil, err
	}
	e.UpdatedAt = s.now()
	ev := verigate.NewAuditEvent(ctx, e.UpdatedAt, "webhook_endpoint.update", "webhook_endpoint", e.ID, e.OrgID)
	if err := s.store.UpdateWebhookEndpoint(ctx, e, keys, ev); err != nil {
		return nil, err
	}
	if e.Enabled {
		s.wake() // its queue may have waited for it
	}
	return e, nil
}

// Delete deletes an endpoint with its messages and their log.
func (s *Service) Delete(ctx context.Context, id string) error {
	e, err := s.standalone(ctx, "webhooks.delete", id)
	if err != nil {
		return err
	}
	return s.store.DeleteWebhookEndpoint(ctx, id, verigate.NewAuditEvent(ctx, s.now(), "webhook_endpoint.delete", "webhook_endpoint", id, e.OrgID))
}

// RotateSecret gives an endpoint a new secret, returned this once; the
// one it replaces still signs (a second signature) for the rotation
// overlap.
func (s *Service) RotateSecret(ctx context.Context, id string) (*verigate.WebhookEndpointSecret, error) {
	e, err := s.standalone(ctx, "webhooks.update", id)
	if err != nil {
		return nil, err
	}
	keys, err := s.store.WebhookEndpointKeys(ctx, id)
	if err != nil {
		return nil, err
	}
	now := s.now()
	secret := newSecret()
	keys.Previous, keys.PreviousUntil = keys.Secret, now.Add(s.opts.RotationOverlap)
	keys.Secret = s.seal.Seal(e.ID, []byte(secret))
	e.UpdatedAt = now
	ev := verigate.NewAuditEvent(ctx, now, "webhook_endpoint.rotate_secret", "webhook_endpoint", e.ID, e.OrgID)
	if err := s.store.UpdateWebhookEndpoint(ctx, e, &keys, ev); err != nil {
		return nil, err
	}
	return &verigate.WebhookEndpointSecret{Endpoint: e, Secret: secret}, nil
}
