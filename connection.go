package verigate

import (
	"encoding/json"
	"slices"
	"time"
)

// ConnectionStatus is where a connection (Reconbanker's "account", a
// login at a connector source) is; its login session runs while it is
// queued, running or awaiting a code.
type ConnectionStatus string

// Connection statuses.
const (
	ConnQueued    ConnectionStatus = "queued"        // a login is waiting for the worker
	ConnRunning   ConnectionStatus = "running"       // the connector is logging in
	ConnAwaiting  ConnectionStatus = "awaiting_code" // the login waits for a one-time code
	ConnConnected ConnectionStatus = "connected"
	ConnFailed    ConnectionStatus = "failed"
)

// connectionMoves is the connection state machine: a running login may
// go on, wait for a code, connect or fail; an ended one may be started
// again (a refresh).
var connectionMoves = map[ConnectionStatus][]ConnectionStatus{
	ConnQueued:    {ConnRunning, ConnAwaiting, ConnConnected, ConnFailed},
	ConnRunning:   {ConnRunning, ConnAwaiting, ConnConnected, ConnFailed},
	ConnAwaiting:  {ConnAwaiting, ConnRunning, ConnConnected, ConnFailed},
	ConnConnected: {ConnQueued},
	ConnFailed:    {ConnQueued},
}

// CanBecome reports whether a connection may move from s to to.
func (s ConnectionStatus) CanBecome(to ConnectionStatus) bool {
	return slices.Contains(connectionMoves[s], to)
}

// SessionRunning reports whether a bank session is running in status s.
func (s ConnectionStatus) SessionRunning() bool {
	return s == ConnQueued || s == ConnRunning || s == ConnAwaiting
}

// FailureKind says what failed a connection, as Reconbanker's
// notifications tell it: the login (login_failed) or the fetching of the
// data (scrape_failed).
type FailureKind string

// Failure kinds.
const (
	// FailureLogin: the bank refused the login or the applicant did not
	// complete it (wrong credentials, a locked account, wrong codes, no code
	// in time). The applicant has to act.
	FailureLogin FailureKind = "login"
	// FailureScrape: anything else. The login succeeded but the data could
	// not be fetched, or the login could not be run at all (no connector,
	// unreadable credentials or code, a connector that answered nothing).
	FailureScrape FailureKind = "scrape"
)

// Connection is a login at a connector data source.
type Connection struct {
	ID             string
	OrgID          string
	UserID         string
	APIKeyID       string
	Mode           Mode
	SourceID       int64
	Label          string
	Credentials    []byte // AES-256-GCM sealed; never leaves the server
	Status         ConnectionStatus
	ConnectorState json.RawMessage
	NextRunAt      *time.Time // when the worker should act on it
	LeaseUntil     *time.Time // a worker holds it until then
	FailureReason  string
	Data           json.RawMessage // what the connector fetched once connected
	StepID         *int64          // the verification step that created it
	SessionID      int64           // that step's session (0 for none)
	Version        int64
	CreatedAt      time.Time
	UpdatedAt      time.Time
	ConnectedAt    *time.Time
}

// AssistStatus is where an assistance request is: pending until a code
// is accepted (fulfilled), the login ends (cancelled) or time runs out
// (expired).
type AssistStatus string

// Assistance-request statuses.
const (
	AssistPending   AssistStatus = "pending"
	AssistFulfilled AssistStatus = "fulfilled"
	AssistCancelled AssistStatus = "cancelled"
	AssistExpired   AssistStatus = "expired"
)

// CanBecome reports whether a request may move from s to to: only a
// pending one moves, and only once.
func (s AssistStatus) CanBecome(to AssistStatus) bool {
	return s == AssistPending && to != AssistPending
}

// Descriptor says what code a login waits for.
type Descriptor struct {
	Length  int    `json:"length"`
	Type    string `json:"type"` // numeric or alphanumeric
	Purpose string `json:"purpose,omitempty"`
}

// AssistanceRequest is a login's request for help (a one-time code). At
// most one is pending per connection.
type AssistanceRequest struct {
	ID           string
	ConnectionID string
	Type         string // otp
	Descriptor   Descriptor
	Attempts     int
	Status       AssistStatus
	Code         []byte // a submitted code awaiting delivery, sealed
	CreatedAt    time.Time
	ExpiresAt    time.Time
	ResolvedAt   *time.Time
}

// ConnectionEvent is an entry of a connection's event stream.
type ConnectionEvent struct {
	ID           int64
	ConnectionID string
	Type         string // assistance_required, assistance_fulfilled, assistance_expired, connected, connection_failed, …
	Data         json.RawMessage
	CreatedAt    time.Time
}

// ConnectionChange is one change of a connection, written in one
// transaction or not at all: the connection (only if its Version is still
// the one read, else ECONFLICT), assistance requests inserted or updated,
// stream events, outbox events and audit events.
type ConnectionChange struct {
	Connection *Connection
	NewRequest *AssistanceRequest
	Request    *AssistanceRequest // an update
	Stream     []ConnectionEvent
	Events     []OutboxEvent
	Audit      []AuditEvent
}

// ValidateCredentials checks a login form's fields.
func ValidateCredentials(creds map[string]string) error {
	if len(creds) == 0 || len(creds) > 10 {
		return FieldError("credentials", "give the login form's fields (at most 10)")
	}
	for k, v := range creds {
		if k == "" || TooLong(k, 64) || TooLong(v, 1024) {
			return FieldError("credentials."+k, "must be at most 1024 characters")
		}
	}
	return nil
}

// ValidateCode checks a one-time code's form.
func ValidateCode(code string) error {
	if code == "" || len([]rune(code)) > 32 {
		return FieldError("code", "must be 1 to 32 characters")
	}
	return nil
}
