// Package calls is caller verification for institutions' call centres:
// inbound calls enter a queue through a voice provider, operators assign
// them to members, then enroll the caller's voice or reject it.
package calls

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/webhook"
)

// Store is the persistence calls need; internal/sqlstore implements it.
type Store interface {
	CreateCall(ctx context.Context, c *verigate.PhoneCall, ev verigate.AuditEvent, outbox []verigate.OutboxEvent) error
	UpdateCall(ctx context.Context, ch verigate.CallChange) error
	GetCall(ctx context.Context, institutionID, voiceID string) (*verigate.PhoneCall, error)
	GetMember(ctx context.Context, institutionID, personID string) (*verigate.Member, error)
	ListCalls(ctx context.Context, f verigate.CallFilter) ([]*verigate.PhoneCall, int, error)
	CallQueueCounts(ctx context.Context, orgIDs []string) ([]verigate.CallQueueCount, error)
	FindCallByPhone(ctx context.Context, institutionID, phone string) (*verigate.PhoneCall, error)
	GetCallByProviderID(ctx context.Context, institutionID, provider, callID string) (*verigate.PhoneCall, error)
	GetOrganizationByKey(ctx context.Context, key string) (*verigate.Organization, error)
	OrgChainActive(ctx context.Context, id string) (bool, error)
}

// Service is the caller-verification core.
type Service struct {
	store     Store
	secretKey []byte
	// Now is the clock; tests replace it.
	Now func() time.Time
}

// New returns a Service. secretKey derives each institution's ingestion
// secret.
func New(store Store, secretKey string) *Service {
	return &Service{store: store, secretKey: []byte(secretKey), Now: time.Now}
}

func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Millisecond) }

// ErrCallNotFound is the answer for a call that does not exist or belongs
// to another institution.
var ErrCallNotFound = verigate.Errorf(verigate.ENOTFOUND, "Phone call not found")

// transitions is the call state machine: for each action, the statuses
// it may start from and the status it leads to.
var transitions = map[string]struct {
	from []verigate.CallStatus
	to   verigate.CallStatus
}{
	"assign": {[]verigate.CallStatus{verigate.CallQueued, verigate.CallAssigned}, verigate.CallAssigned},
	"enroll": {[]verigate.CallStatus{verigate.CallAssigned}, verigate.CallEnrolled},
	"reject": {[]verigate.CallStatus{verigate.CallAssigned, verigate.CallEnrolled}, verigate.CallRejected},
}

// next returns the status action leads to from status, or ECONFLICT.
func next(action string, status verigate.CallStatus) (verigate.CallStatus, error) {
	t := transitions[action]
	if !slices.Contains(t.from, status) {
		return "", verigate.Errorf(verigate.ECONFLICT, "Cannot %s a call that is %s.", action, status)
	}
	return t.to, nil
}

func (s *Service) audit(ctx context.Context, action, targetKind, targetID, orgID string) verigate.AuditEvent {
	return verigate.NewAuditEvent(ctx, s.now(), action, targetKind, targetID, orgID)
}

// operator names who acts: the RequestedBy operator, else the principal.
func operator(ctx context.Context) string {
	if p := verigate.PrincipalFrom(ctx); p != nil {
		if p.RequestedBy != "" {
			return p.RequestedBy
		}
		return p.ID
	}
	return "anonymous"
}

var phonePattern = regexp.MustCompile(`^\+?[0-9]{6,15}$`)

// NormalizePhone strips spaces, dashes, dots and parentheses and checks
// what is left is a phone number of 6 to 15 digits, with an optional +.
func NormalizePhone(field, phone string) (string, error) {
	p := strings.Map(func(r rune) rune {
		if strings.ContainsRune(" -.()", r) {
			return -1
		}
		return r
	}, phone)
	if !phonePattern.MatchString(p) {
		return "", verigate.FieldError(field, "must be a phone number of 6 to 15 digits, optionally starting with +")
	}
	return p, nil
}

// IncomingCall is a call as a voice provider reports it.
type IncomingCall struct {
	Provider       string
	ProviderCallID string // the provider's id; a repeat report of it is ECONFLICT
	PhoneNumber    string
	CallerName     string
	ReceivedAt     time.Time
	Risk           *verigate.Risk // nil: the provider did not score it
	Events         []verigate.CallEvent
}

// MaxEvents bounds the events one report may carry.
const MaxEvents = 100

// ErrBadSignature answers every report that is not signed with its
// institution's ingestion secret (headers missing, a stale timestamp, a
// wrong signature), and one for an unknown, disabled or mistyped
// institution: the sender learns nothing it could not already know.
var ErrBadSignature = verigate.Errorf(verigate.EUNAUTHENTICATED, "Invalid webhook signature: check webhook-id, webhook-timestamp (within 5 minutes) and webhook-signature.")

// Report is a voice provider's signed report of a call.
type Report struct {
	InstitutionKey string
	Signature      webhook.Signature
	Body           []byte // the signed bytes
	// Decode reads the call out of Body; it runs only once the signature
	// holds, so an unsigned sender learns nothing of the format.
	Decode func() (IncomingCall, error)
}

// Receive queues the call a voice provider reports. The report
// authenticates itself: a Standard Webhooks signature over its body under
// the institution's ingestion secret. Reports are idempotent on the
// provider's call id: a retry returns the call already queued, with
// created false, so the sender stops retrying.
func (s *Service) Receive(ctx context.Context, r Report) (c *verigate.PhoneCall, created bool, err error) {
	inst, err := s.store.GetOrganizationByKey(ctx, r.InstitutionKey)
	if verigate.ErrorCode(err) == verigate.ENOTFOUND || (err == nil && inst.Kind != verigate.OrgInstitution) {
		return nil, false, ErrBadSignature
	} else if err != nil {
		return nil, false, err
	}
	if active, err := s.store.OrgChainActive(ctx, inst.ID); err != nil {
		return nil, false, err
	} else if !active {
		return nil, false, ErrBadSignature
	}
	if webhook.Check(s.IngestSecret(inst), r.Signature, r.Body, s.Now()) != nil {
		return nil, false, ErrBadSignature
	}
	call, err := r.Decode()
	if err != nil {
		return nil, false, err
	}
	call.Provider = providerName(call.Provider)
	if call.ProviderCallID == "" {
		return nil, false, verigate.FieldError("callId", "is required, so a retried report is not queued twice")
	}
	c, err = s.ingest(ctx, inst, call, voiceProvider(call.Provider))
	if verigate.ErrorCode(err) != verigate.ECONFLICT {
		return c, err == nil, err
	}
	c, err = s.store.GetCallByProviderID(ctx, inst.ID, call.Provider, call.ProviderCallID)
	return c, false, err
}

// providerName is a report's provider: "telephony" when it names none.
func providerName(name string) string {
	if name == "" {
		return "telephony"
	}
	return name
}

// voiceProvider names a signed report's sender in the audit log.
func voiceProvider(name string) func(*verigate.AuditEvent) {
	return func(ev *verigate.AuditEvent) { ev.ActorKind, ev.ActorID = verigate.PrincipalVoiceProvider, name }
}

// Ingest puts a call into the institution's queue for a principal that
// may queue calls there (the admin CLI, the demo, test tooling).
func (s *Service) Ingest(ctx context.Context, inst *verigate.Organization, in IncomingCall) (*verigate.PhoneCall, error) {
	if err := verigate.Authorize(ctx, "calls.create", verigate.Object{Org: inst.ID}, ErrCallNotFound); err != nil {
		return nil, err
	}
	return s.ingest(ctx, inst, in, nil)
}

func (s *Service) ingest(ctx context.Context, inst *verigate.Organization, in IncomingCall, actor func(*verigate.AuditEvent)) (*verigate.PhoneCall, error) {
	in.Provider = providerName(in.Provider)
	if err := verigate.ValidateText("provider", in.Provider, 64); err != nil {
		return nil, err
	}
	if inst.Kind != verigate.OrgInstitution {
		return nil, verigate.Errorf(verigate.EINVALID, "Calls are received by institutions; %q is a %s.", inst.Key, inst.Kind)
	}
	phone, err := NormalizePhone("phoneNumber", in.PhoneNumber)
	if err != nil {
		return nil, err
	}
	name := strings.TrimSpace(in.CallerName)
	if name == "" {
		name = "Unknown caller"
	}
	if err := verigate.ValidateText("callerName", name, 200); err != nil {
		return nil, err
	}
	if in.ProviderCallID == "" {
		in.ProviderCallID = verigate.NewID()
	}
	if err := verigate.ValidateText("callId", in.ProviderCallID, 128); err != nil {
		return nil, err
	}
	if len(in.Events) > MaxEvents {
		return nil, verigate.FieldError("events", fmt.Sprintf("at most %d events", MaxEvents))
	}
	risk := Assess(phone)
	if in.Risk != nil {
		if in.Risk.Score < 0 || in.Risk.Score > 100 {
			return nil, verigate.FieldError("risk.score", "must be between 0 and 100")
		}
		risk = verigate.Risk{Score: in.Risk.Score, Level: verigate.RiskLevel(in.Risk.Score)}
	}
	now := s.now()
	received := in.ReceivedAt
	if received.IsZero() {
		received = now
	}
	c := &verigate.PhoneCall{VoiceID: verigate.NewID(), InstitutionID: inst.ID, Provider: in.Provider,
		ProviderCallID: in.ProviderCallID, PhoneNumber: phone, CallerName: name, ReceivedAt: received.UTC().Truncate(time.Millisecond),
		Status: verigate.CallQueued, Risk: risk, CreatedAt: now, UpdatedAt: now}
	for _, e := range in.Events {
		if err := verigate.ValidateText("events.type", e.Type, 64); err != nil {
			return nil, err
		}
		if verigate.TooLong(e.Detail, 1000) {
			return nil, verigate.FieldError("events.detail", "must be at most 1000 characters")
		}
		if e.At.IsZero() {
			e.At = received
		}
		c.Events = append(c.Events, verigate.CallEvent{Type: e.Type, At: e.At.UTC().Truncate(time.Millisecond), Detail: e.Detail})
	}
	c.Events = append(c.Events,
		verigate.CallEvent{Type: "risk.assessed", At: now, Detail: fmt.Sprintf("score %d, %s", risk.Score, risk.Level)},
		verigate.CallEvent{Type: "call.queued", At: now})
	ev := s.audit(ctx, "call.received", "phone_call", c.VoiceID, inst.ID)
	ev.Details = map[string]any{"provider": in.Provider, "providerCallId": in.ProviderCallID}
	if actor != nil {
		actor(&ev)
	}
	if err := s.store.CreateCall(ctx, c, ev, []verigate.OutboxEvent{verigate.NewCallStatus(inst, c, "", now)}); err != nil {
		return nil, err
	}
	return c, nil
}

// IngestSecret is the Standard Webhooks secret a telephony integration
// signs an institution's call reports with. It is derived from the server's
// secret key, so it needs no storage and changes when that key does.
func (s *Service) IngestSecret(inst *verigate.Organization) []byte {
	h := hmac.New(sha256.New, s.secretKey)
	h.Write([]byte("verigate voice ingestion\x00" + inst.ID))
	return h.Sum(nil)
}
