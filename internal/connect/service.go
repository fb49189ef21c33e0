// Package connect runs connections (Reconbanker's "accounts"): logins at
// connector data sources that may stop to ask for a one-time code. A
// worker drives each login step by step from the database, so a login
// survives restarts and several replicas share the work.
package connect

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/seal"
)

// Store is the persistence connect needs; internal/sqlstore implements it.
type Store interface {
	CreateConnection(ctx context.Context, c *verigate.Connection, ch verigate.ConnectionChange) error
	ApplyConnectionChange(ctx context.Context, ch verigate.ConnectionChange) error
	GetConnection(ctx context.Context, id string) (*verigate.Connection, error)
	ListConnections(ctx context.Context, orgIDs []string, mode verigate.Mode, only []string, limit, offset int) ([]*verigate.Connection, error)
	DueConnections(ctx context.Context, now time.Time, limit int) ([]*verigate.Connection, error)
	PendingRequest(ctx context.Context, connectionID string) (*verigate.AssistanceRequest, error)
	ExpiredRequests(ctx context.Context, now time.Time, limit int) ([]*verigate.AssistanceRequest, error)
	ConnectionEvents(ctx context.Context, connectionID string, afterID int64, limit int) ([]verigate.ConnectionEvent, error)
	GetSource(ctx context.Context, id int64) (*verigate.DataSource, error)
	OrgChainActive(ctx context.Context, id string) (bool, error)
}

// Timing.
const (
	AssistanceTTL = 5 * time.Minute  // a pending request expires after this
	MaxAttempts   = 3                // wrong codes before the login fails
	Lease         = 30 * time.Second // how long a worker holds a connection
)

// WorkerTopic is the broker topic that wakes the worker.
const WorkerTopic = "worker"

// Service is the connections core.
type Service struct {
	store      Store
	seal       *seal.Sealer
	broker     Broker
	connectors map[string]Connector // by source name
	// Now is the clock; tests replace it.
	Now func() time.Time
	// OnEnded is told when a connection created by a verification step
	// connects or fails, so the step can end.
	OnEnded func(ctx context.Context, c *verigate.Connection)
	// StepRecords tells whether a step's connection is the one its step
	// records; one that is not (its request died before the step moved)
	// fails instead of logging in for nothing.
	StepRecords func(ctx context.Context, c *verigate.Connection) (bool, error)
}

// New returns a Service with the Sandbox Bank connector.
func New(store Store, secret string, broker Broker) *Service {
	return &Service{store: store, seal: seal.New(secret, "verigate connector credentials v1"), broker: broker, Now: time.Now,
		connectors: map[string]Connector{"Sandbox Bank": SandboxBank{}}}
}

// Register adds (or replaces) the connector for a source name.
func (s *Service) Register(sourceName string, c Connector) { s.connectors[sourceName] = c }

func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Millisecond) }

// ErrNotFound answers a connection that does not exist or is outside the
// key's reach (another tenant's, or the other mode's).
var ErrNotFound = verigate.Errorf(verigate.ENOTFOUND, "Account not found")

// ErrNoPending answers a code for a connection that waits for none.
var ErrNoPending = verigate.Errorf(verigate.ENOTFOUND, "No pending assistance request for this account")

// authorize checks the principal holds perm and may use connection c: a
// connection outside its organizations or mode is ENOTFOUND; one of its
// organizations that the key's account list leaves out is EFORBIDDEN.
func authorize(ctx context.Context, perm verigate.Permission, c *verigate.Connection) error {
	p := verigate.PrincipalFrom(ctx)
	if p == nil {
		return verigate.Errorf(verigate.EUNAUTHENTICATED, "Authentication required.")
	}
	if p.Kind == verigate.PrincipalSystem {
		return nil
	}
	if c != nil && (!slices.Contains(p.Orgs, c.OrgID) || p.Mode != c.Mode) {
		return ErrNotFound
	}
	if !slices.Contains(p.Permissions, perm) {
		return verigate.Errorf(verigate.EFORBIDDEN, "This API key lacks the %s scope.", verigate.PermissionScope(perm))
	}
	if c != nil && len(p.Accounts) > 0 && !slices.Contains(p.Accounts, c.ID) && !slices.Contains(p.Accounts, c.OrgID) {
		return verigate.Errorf(verigate.EFORBIDDEN, "This API key is not allowed for this account.")
	}
	return nil
}

// connection returns a connection the principal may use with perm.
func (s *Service) connection(ctx context.Context, perm verigate.Permission, id string) (*verigate.Connection, error) {
	c, err := s.store.GetConnection(ctx, id)
	if verigate.ErrorCode(err) == verigate.ENOTFOUND {
		return nil, ErrNotFound
	} else if err != nil {
		return nil, err
	}
	if err := authorize(ctx, perm, c); err != nil {
		return nil, err
	}
	return c, nil
}

// CreateInput is a new connection.
type CreateInput struct {
	SourceID    int64
	Credentials Credentials
	Label       string
	StepID      *int64
	// Hold creates it without starting the login; Activate starts it
	// (or, failing that, the worker, a lease later).
	Hold bool
}

// ValidateCredentials checks a login form's fields.
func ValidateCredentials(creds Credentials) error {
	if len(creds) == 0 || len(creds) > 10 {
		return verigate.FieldError("credentials", "give the login form's fields (at most 10)")
	}
	for k, v := range creds {
		if k == "" || verigate.TooLong(k, 64) || verigate.TooLong(v, 1024) {
			return verigate.FieldError("credentials."+k, "must be at most 1024 characters")
		}
	}
	return nil
}

// Create opens a connection and queues its first login.
func (s *Service) Create(ctx context.Context, in CreateInput) (*verigate.Connection, error) {
	if err := authorize(ctx, "connections.write", nil); err != nil {
		return nil, err
	}
	p := verigate.PrincipalFrom(ctx)
	if in.SourceID <= 0 {
		return nil, verigate.FieldError("source_id", "is required")
	}
	if err := ValidateCredentials(in.Credentials); err != nil {
		return nil, err
	}
	if in.Label != "" {
		if err := verigate.ValidateText("label", in.Label, 100); err != nil {
			return nil, err
		}
	}
	src, err := s.store.GetSource(ctx, in.SourceID)
	if err != nil && verigate.ErrorCode(err) != verigate.ENOTFOUND {
		return nil, err
	}
	if src == nil || src.Kind != verigate.SourceConnector || (src.TestOnly && p.Mode != verigate.ModeTest) {
		return nil, verigate.FieldError("source_id", "is not a connector source available to this key")
	}
	if s.connectors[src.SourceName] == nil {
		return nil, verigate.FieldError("source_id", "has no connector installed on this server")
	}
	now := s.now()
	next := &now
	if in.Hold {
		// A hold lapses into a start after a lease: a process that dies
		// before Activate leaves no connection (and no step) stuck.
		lapse := now.Add(Lease)
		next = &lapse
	}
	home := p.HomeOrg()
	if home == "" {
		return nil, verigate.Errorf(verigate.EFORBIDDEN, "This API key's account list names no organization to create in.")
	}
	if active, err := s.store.OrgChainActive(ctx, home); err != nil {
		return nil, err
	} else if !active {
		return nil, verigate.Errorf(verigate.EFORBIDDEN, "This API key's organization is disabled.")
	}
	c := &verigate.Connection{ID: verigate.NewID(), OrgID: home, UserID: p.UserID, APIKeyID: p.ID, Mode: p.Mode,
		SourceID: in.SourceID, Label: in.Label, Status: verigate.ConnQueued, NextRunAt: next, StepID: in.StepID,
		ConnectorState: json.RawMessage("{}"), Data: json.RawMessage("{}"), CreatedAt: now, UpdatedAt: now}
	creds, _ := json.Marshal(in.Credentials)
	c.Credentials = s.seal.Seal(c.ID, creds)
	ev := verigate.NewAuditEvent(ctx, now, "connection.create", "connection", c.ID, c.OrgID)
	ev.Details = map[string]any{"sourceId": in.SourceID}
	if err := s.store.CreateConnection(ctx, c, verigate.ConnectionChange{Connection: c, Audit: []verigate.AuditEvent{ev}}); err != nil {
		return nil, err
	}
	if !in.Hold {
		s.broker.Publish(ctx, WorkerTopic)
	}
	return c, nil
}

// Activate starts the login of a connection created on hold.
func (s *Service) Activate(ctx context.Context, id string) error {
	c, err := s.store.GetConnection(ctx, id)
	if err != nil {
		return err
	}
	now := s.now()
	c.NextRunAt, c.UpdatedAt = &now, now
	if err := s.store.ApplyConnectionChange(ctx, verigate.ConnectionChange{Connection: c}); err != nil {
		return err
	}
	s.broker.Publish(ctx, WorkerTopic)
	return nil
}

// Abandon fails a connection created on hold whose purpose fell through.
func (s *Service) Abandon(ctx context.Context, id, reason string) error {
	c, err := s.store.GetConnection(ctx, id)
	if err != nil {
		return err
	}
	now := s.now()
	c.Status, c.FailureReason, c.NextRunAt, c.UpdatedAt = verigate.ConnFailed, reason, nil, now
	return s.store.ApplyConnectionChange(ctx, verigate.ConnectionChange{Connection: c})
}

// Check tells whether the principal may use connection id with perm
// (ErrNotFound beyond its reach, EFORBIDDEN beyond its scopes or accounts).
func (s *Service) Check(ctx context.Context, perm verigate.Permission, id string) error {
	_, err := s.connection(ctx, perm, id)
	return err
}

// CreateForStep opens a connection for a verification step's connector
// source, on behalf of the session's applicant (no API key: the session's
// organization and mode own it).
// The connection is created on hold: Activate starts it once the step
// records it.
func (s *Service) CreateForStep(ctx context.Context, orgID string, mode verigate.Mode, sessionID, stepID, sourceID int64, creds Credentials) (*verigate.Connection, error) {
	applicant := &verigate.Principal{Kind: verigate.PrincipalApplicant, ID: fmt.Sprintf("session:%d", sessionID), OrgID: orgID,
		Orgs: []string{orgID}, Mode: mode, Permissions: []verigate.Permission{"connections.write"}}
	return s.Create(verigate.WithPrincipal(ctx, applicant), CreateInput{SourceID: sourceID, Credentials: creds,
		Label: fmt.Sprintf("session %d", sessionID), StepID: &stepID, Hold: true})
}

// SubmitCodeForStep delivers a code to the connection of an applicant's
// step; the step (already checked to be the applicant's) names it.
func (s *Service) SubmitCodeForStep(ctx context.Context, accountID, code string) error {
	return s.SubmitCode(verigate.WithPrincipal(ctx, verigate.System), accountID, code)
}

// StatusForStep returns the status of a step's connection.
func (s *Service) StatusForStep(ctx context.Context, accountID string) (*verigate.Connection, *verigate.AssistanceRequest, error) {
	return s.Status(verigate.WithPrincipal(ctx, verigate.System), accountID)
}

// Get returns a connection.
func (s *Service) Get(ctx context.Context, id string) (*verigate.Connection, error) {
	return s.connection(ctx, "connections.read", id)
}

// List returns the connections in the key's reach (and account list).
func (s *Service) List(ctx context.Context, limit, offset int) ([]*verigate.Connection, error) {
	if err := authorize(ctx, "connections.read", nil); err != nil {
		return nil, err
	}
	if limit < 1 || limit > 100 {
		return nil, verigate.FieldError("limit", "must be between 1 and 100")
	}
	if offset < 0 {
		return nil, verigate.FieldError("offset", "must not be negative")
	}
	p := verigate.PrincipalFrom(ctx)
	return s.store.ListConnections(ctx, p.Orgs, p.Mode, p.Accounts, limit, offset)
}

// Status returns a connection and its pending request (nil when none).
func (s *Service) Status(ctx context.Context, id string) (*verigate.Connection, *verigate.AssistanceRequest, error) {
	c, err := s.connection(ctx, "status.read", id)
	if err != nil {
		return nil, nil, err
	}
	r, err := s.store.PendingRequest(ctx, id)
	if verigate.ErrorCode(err) == verigate.ENOTFOUND {
		return c, nil, nil
	}
	return c, r, err
}

// SubmitCode accepts a one-time code for delivery to the waiting login.
// The outcome shows later in the status, the stream and the events.
func (s *Service) SubmitCode(ctx context.Context, id, code string) error {
	if code == "" || len([]rune(code)) > 32 {
		return verigate.FieldError("code", "must be 1 to 32 characters")
	}
	c, err := s.connection(ctx, "otp.write", id)
	if err != nil {
		return err
	}
	r, err := s.store.PendingRequest(ctx, id)
	if verigate.ErrorCode(err) == verigate.ENOTFOUND {
		return ErrNoPending
	} else if err != nil {
		return err
	}
	if r.Code != nil {
		return verigate.Errorf(verigate.ECONFLICT, "A code for this request is already being delivered.")
	}
	now := s.now()
	r.Code = s.seal.Seal(c.ID, []byte(code))
	c.NextRunAt, c.UpdatedAt = &now, now
	ev := verigate.NewAuditEvent(ctx, now, "connection.submit_code", "connection", c.ID, c.OrgID)
	ev.Details = map[string]any{"requestId": r.ID}
	if err := s.store.ApplyConnectionChange(ctx, verigate.ConnectionChange{Connection: c, Request: r, Audit: []verigate.AuditEvent{ev}}); err != nil {
		return err
	}
	s.broker.Publish(ctx, WorkerTopic)
	return nil
}

// Refresh starts a new login for a connection whose session has ended.
func (s *Service) Refresh(ctx context.Context, id string) (*verigate.Connection, error) {
	c, err := s.connection(ctx, "connections.write", id)
	if err != nil {
		return nil, err
	}
	if verigate.SessionRunning(c.Status) {
		return nil, verigate.Errorf(verigate.ECONFLICT, "A login session is already running for this account.")
	}
	now := s.now()
	c.Status, c.NextRunAt, c.LeaseUntil, c.FailureReason, c.ConnectorState, c.UpdatedAt = verigate.ConnQueued, &now, nil, "", json.RawMessage("{}"), now
	ev := verigate.NewAuditEvent(ctx, now, "connection.refresh", "connection", c.ID, c.OrgID)
	if err := s.store.ApplyConnectionChange(ctx, verigate.ConnectionChange{Connection: c, Audit: []verigate.AuditEvent{ev}}); err != nil {
		return nil, err
	}
	s.broker.Publish(ctx, WorkerTopic)
	return c, nil
}

// Events returns a connection's stream events after afterID.
func (s *Service) Events(ctx context.Context, id string, afterID int64) ([]verigate.ConnectionEvent, error) {
	if _, err := s.connection(ctx, "status.read", id); err != nil {
		return nil, err
	}
	return s.store.ConnectionEvents(ctx, id, afterID, 500)
}

// Subscribe wakes on each change of a connection.
func (s *Service) Subscribe(id string) (<-chan struct{}, func()) {
	return s.broker.Subscribe("conn:" + id)
}

func newRequestID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "req_" + hex.EncodeToString(b)
}

func (s *Service) sourceName(ctx context.Context, id int64) (string, error) {
	src, err := s.store.GetSource(ctx, id)
	if verigate.ErrorCode(err) == verigate.ENOTFOUND {
		return "", nil // removed: no connector runs it
	} else if err != nil {
		return "", err
	}
	return src.SourceName, nil
}
