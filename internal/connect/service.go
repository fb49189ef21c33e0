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
	"log/slog"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/ratelimit"
	"github.com/verigate/verigate/internal/seal"
)

// Store is the persistence connect needs; internal/sqlstore implements it.
type Store interface {
	CreateConnection(ctx context.Context, c *verigate.Connection, ch verigate.ConnectionChange) error
	ApplyConnectionChange(ctx context.Context, ch verigate.ConnectionChange) error
	GetConnection(ctx context.Context, id string) (*verigate.Connection, error)
	// ConnectionStatus is GetConnection with the pending request (nil
	// when none), in one query.
	ConnectionStatus(ctx context.Context, id string) (*verigate.Connection, *verigate.AssistanceRequest, error)
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

// CodeLimit bounds the one-time codes submitted to one connection, by
// any path (an API key, an applicant's step): 5 per 10 minutes.
var CodeLimit = ratelimit.Policy{TTL: 10 * time.Minute, Limit: 5, BlockDuration: 10 * time.Minute}

// Service is the connections core.
type Service struct {
	store      Store
	seal       *seal.Sealer
	broker     Broker
	limits     ratelimit.Store
	log        *slog.Logger
	connectors map[string]Connector // by source name
	// Now is the clock; tests replace it.
	Now func() time.Time
}

// New returns a Service with the Sandbox Bank connector. limits counts
// submitted codes (shared by replicas when it is Redis).
func New(store Store, secret string, broker Broker, limits ratelimit.Store, log *slog.Logger) *Service {
	return &Service{store: store, seal: seal.New(secret, "verigate connector credentials v1"), broker: broker, limits: limits, log: log,
		Now: time.Now, connectors: map[string]Connector{"Sandbox Bank": SandboxBank{}}}
}

// Register adds (or replaces) the connector for a source name.
func (s *Service) Register(sourceName string, c Connector) { s.connectors[sourceName] = c }

func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Millisecond) }

// ErrNotFound answers a connection that does not exist or is outside the
// key's reach (another tenant's, or the other mode's).
var ErrNotFound = verigate.Errorf(verigate.ENOTFOUND, "Account not found")

// ErrNoPending answers a code for a connection that waits for none.
var ErrNoPending = verigate.Errorf(verigate.ENOTFOUND, "No pending assistance request for this account")

// connection returns a connection the principal may use with perm, by
// the one rule: another tenant's or mode's answers ErrNotFound, exactly
// as a missing one; an applicant reaches only its own session's.
func (s *Service) connection(ctx context.Context, perm verigate.Permission, id string) (*verigate.Connection, error) {
	c, err := s.store.GetConnection(ctx, id)
	return authorized(ctx, perm, c, err)
}

// authorized returns c, read with err, when the principal may use it with
// perm; see connection.
func authorized(ctx context.Context, perm verigate.Permission, c *verigate.Connection, err error) (*verigate.Connection, error) {
	if verigate.ErrorCode(err) == verigate.ENOTFOUND {
		return nil, verigate.Authorize(ctx, perm, verigate.Missing, ErrNotFound)
	} else if err != nil {
		return nil, err
	}
	if err := verigate.Authorize(ctx, perm, verigate.Object{Org: c.OrgID, Mode: c.Mode, ID: c.ID, Session: c.SessionID}, ErrNotFound); err != nil {
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
	SessionID   int64 // the step's session
	// Hold creates it without starting the login; Activate starts it
	// (or, failing that, the worker, a lease later).
	Hold bool
}

// Create opens a connection and queues its first login.
func (s *Service) Create(ctx context.Context, in CreateInput) (*verigate.Connection, error) {
	if err := verigate.Authorize(ctx, "connections.write", verigate.Object{}, nil); err != nil {
		return nil, err
	}
	return s.create(ctx, verigate.PrincipalFrom(ctx), in)
}

// create opens a connection for p, who may create it.
func (s *Service) create(ctx context.Context, p *verigate.Principal, in CreateInput) (*verigate.Connection, error) {
	if in.SourceID <= 0 {
		return nil, verigate.FieldError("source_id", "is required")
	}
	if err := verigate.ValidateCredentials(in.Credentials); err != nil {
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
		return nil, verigate.Errorf(verigate.EFORBIDDEN, "This credential's account list names no organization to create in.")
	}
	if active, err := s.store.OrgChainActive(ctx, home); err != nil {
		return nil, err
	} else if !active {
		return nil, verigate.Errorf(verigate.EFORBIDDEN, "This credential's organization is disabled.")
	}
	c := &verigate.Connection{ID: verigate.NewID(), OrgID: home, UserID: p.UserID, APIKeyID: p.ID, Mode: p.Mode,
		SourceID: in.SourceID, Label: in.Label, Status: verigate.ConnQueued, NextRunAt: next, StepID: in.StepID, SessionID: in.SessionID,
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

// OpenForStep opens the connection that carries out connector step
// stepID of session sessionID, for that session's applicant (the
// principal in ctx). The connection is made on
// hold; record (the step taking it as its connection) runs next, and only
// then does the login start: the worker can only end a step that knows
// its connection. Should record fail, the connection fails and never
// logs in.
func (s *Service) OpenForStep(ctx context.Context, sessionID, stepID, sourceID int64, creds map[string]string, record func(accountID string) error) (*verigate.Connection, error) {
	if err := verigate.Authorize(ctx, "connections.write", verigate.Object{Session: sessionID}, nil); err != nil {
		return nil, err
	}
	c, err := s.create(ctx, verigate.PrincipalFrom(ctx), CreateInput{SourceID: sourceID, Credentials: creds,
		Label: fmt.Sprintf("session %d", sessionID), StepID: &stepID, SessionID: sessionID, Hold: true})
	if err != nil {
		return nil, err
	}
	// The bookkeeping outlives the request: a client gone mid-way must not
	// leave the connection on hold (it would start a lease later).
	bg := context.WithoutCancel(ctx)
	if err := record(c.ID); err != nil {
		if aerr := s.abandon(bg, c.ID, "the verification step changed before the login started"); aerr != nil {
			s.log.Error("abandon a step's connection", "err", aerr, "connection", c.ID)
		}
		return nil, err
	}
	if err := s.activate(bg, c.ID); err != nil {
		return nil, err
	}
	return c, nil
}

// activate starts the login of a connection created on hold.
func (s *Service) activate(ctx context.Context, id string) error {
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

// abandon fails a connection created on hold whose purpose fell through.
func (s *Service) abandon(ctx context.Context, id, reason string) error {
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

// Get returns a connection.
func (s *Service) Get(ctx context.Context, id string) (*verigate.Connection, error) {
	return s.connection(ctx, "connections.read", id)
}

// List returns the connections in the key's reach (and account list).
func (s *Service) List(ctx context.Context, limit, offset int) ([]*verigate.Connection, error) {
	if err := verigate.Authorize(ctx, "connections.read", verigate.Object{}, nil); err != nil {
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
	c, r, err := s.store.ConnectionStatus(ctx, id)
	if c, err = authorized(ctx, "status.read", c, err); err != nil {
		return nil, nil, err
	}
	return c, r, nil
}

// Details returns a connection in full and its pending request (nil when
// none; its Code is set while a submitted code awaits delivery): what a
// person's page of the connection shows, where Status is the hot, narrow
// read a client polls. It needs connections.read, as GET /v1/accounts/{id} does.
func (s *Service) Details(ctx context.Context, id string) (*verigate.Connection, *verigate.AssistanceRequest, error) {
	c, err := s.connection(ctx, "connections.read", id)
	if err != nil {
		return nil, nil, err
	}
	r, err := s.store.PendingRequest(ctx, id)
	if verigate.ErrorCode(err) == verigate.ENOTFOUND {
		return c, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	return c, r, nil
}

// SubmitCode accepts a one-time code for delivery to the waiting login.
// The outcome shows later in the status, the stream and the events.
// Whoever submits it (an API key, a step's applicant), a connection takes
// at most CodeLimit codes: only a caller that may use the connection
// spends one.
func (s *Service) SubmitCode(ctx context.Context, id, code string) error {
	if err := verigate.ValidateCode(code); err != nil {
		return err
	}
	c, err := s.connection(ctx, "otp.write", id)
	if err != nil {
		return err
	}
	if err := s.limitCodes(ctx, c.ID); err != nil {
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
	if !c.Status.CanBecome(verigate.ConnQueued) {
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

// limitCodes counts a code for connection id; ERATELIMITED past
// CodeLimit. A limiter that fails lets the code through (and says so in
// the log): the connector's own attempt limit still holds.
func (s *Service) limitCodes(ctx context.Context, id string) error {
	res, err := s.limits.Hit(ctx, "otp:"+id, CodeLimit, s.now())
	if err != nil {
		s.log.Error("rate limiter", "err", err, "request_id", verigate.RequestIDFrom(ctx))
		return nil
	}
	if res.Allowed {
		return nil
	}
	secs := (res.RetryAfter + time.Second - 1) / time.Second
	e := verigate.Errorf(verigate.ERATELIMITED, "Too many codes for this account; try again in %d seconds.", secs)
	e.RetryAfter = secs * time.Second
	return e
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
