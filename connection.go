package verigate

import (
	"encoding/json"
	"time"
)

// Connection statuses. A connection (Reconbanker's "account") is a login
// at a connector source; its login session runs while it is queued,
// running or awaiting a code.
const (
	ConnQueued    = "queued"        // a login is waiting for the worker
	ConnRunning   = "running"       // the connector is logging in
	ConnAwaiting  = "awaiting_code" // the login waits for a one-time code
	ConnConnected = "connected"
	ConnFailed    = "failed"
)

// SessionRunning reports whether a connection status has a bank session
// running.
func SessionRunning(status string) bool {
	return status == ConnQueued || status == ConnRunning || status == ConnAwaiting
}

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
	Status         string
	ConnectorState json.RawMessage
	NextRunAt      *time.Time // when the worker should act on it
	LeaseUntil     *time.Time // a worker holds it until then
	FailureReason  string
	Data           json.RawMessage // what the connector fetched once connected
	StepID         *int64          // the verification step that created it
	Version        int64
	CreatedAt      time.Time
	UpdatedAt      time.Time
	ConnectedAt    *time.Time
}

// Assistance-request statuses.
const (
	AssistPending   = "pending"
	AssistFulfilled = "fulfilled"
	AssistCancelled = "cancelled"
	AssistExpired   = "expired"
)

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
	Status       string
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
	Events     []Event
	Audit      []AuditEvent
}
