package verigate

import (
	"encoding/json"
	"slices"
	"time"
)

// SessionStatus is where a verification session is (the seed's
// "session", Konfir's "verification").
type SessionStatus string

// Session statuses.
const (
	SessionPending    SessionStatus = "PENDING"
	SessionProcessing SessionStatus = "PROCESSING"
	SessionReviewing  SessionStatus = "REVIEWING"
	SessionCompleted  SessionStatus = "COMPLETED"
	SessionRejected   SessionStatus = "REJECTED"
	SessionFailed     SessionStatus = "FAILED"
	SessionExpired    SessionStatus = "EXPIRED"
	// SessionCancelled ends a session nobody will finish: its creator
	// cancelled it, for a CancelReason.
	SessionCancelled SessionStatus = "CANCELLED"
)

// SessionStatuses lists every session status.
var SessionStatuses = []SessionStatus{SessionPending, SessionProcessing, SessionCompleted, SessionReviewing, SessionFailed, SessionExpired, SessionRejected, SessionCancelled}

// sessionMoves is the session state machine: every allowed transition.
var sessionMoves = map[SessionStatus][]SessionStatus{
	SessionPending:    {SessionProcessing, SessionExpired, SessionCancelled},
	SessionProcessing: {SessionReviewing, SessionCompleted, SessionFailed, SessionExpired, SessionCancelled},
	SessionReviewing:  {SessionCompleted, SessionRejected, SessionCancelled},
}

// CanBecome reports whether a session may move from s to to.
func (s SessionStatus) CanBecome(to SessionStatus) bool { return slices.Contains(sessionMoves[s], to) }

// Ended reports whether s is final.
func (s SessionStatus) Ended() bool {
	switch s {
	case SessionCompleted, SessionRejected, SessionFailed, SessionExpired, SessionCancelled:
		return true
	}
	return false
}

// StepStatus is where a step is. VERIFIED is backed by a verified
// cryptographic proof; COMPLETED by data a connector obtained.
type StepStatus string

// Step statuses.
const (
	StepPending    StepStatus = "PENDING"
	StepInitiated  StepStatus = "INITIATED"
	StepInProgress StepStatus = "IN_PROGRESS"
	StepVerified   StepStatus = "VERIFIED"
	StepCompleted  StepStatus = "COMPLETED"
	StepFailed     StepStatus = "FAILED"
	StepExpired    StepStatus = "EXPIRED"
)

// StepStatuses lists every step status.
var StepStatuses = []StepStatus{StepPending, StepInitiated, StepInProgress, StepVerified, StepCompleted, StepFailed, StepExpired}

// stepMoves is the step state machine (INITIATED may be initiated again).
var stepMoves = map[StepStatus][]StepStatus{
	StepPending:    {StepInitiated, StepExpired},
	StepInitiated:  {StepInitiated, StepInProgress, StepVerified, StepCompleted, StepFailed, StepExpired},
	StepInProgress: {StepVerified, StepCompleted, StepFailed, StepExpired},
}

// CanBecome reports whether a step may move from s to to.
func (s StepStatus) CanBecome(to StepStatus) bool { return slices.Contains(stepMoves[s], to) }

// Ended reports whether s is final.
func (s StepStatus) Ended() bool {
	switch s {
	case StepVerified, StepCompleted, StepFailed, StepExpired:
		return true
	}
	return false
}

// Review policies: when a session whose steps have all ended goes to the
// reviewer queue.
const (
	ReviewAlways    = "always"
	ReviewOnFailure = "on_failure"
	ReviewNever     = "never"
)

// Data-source kinds.
const (
	SourceReclaim   = "reclaim"   // the applicant proves data with a Reclaim proof
	SourceConnector = "connector" // Verigate logs in through a connector
)

// VerificationType groups data sources (Income Verification, …).
type VerificationType struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

// LoginStep is one step of a source's login flow, as the SDK shows it.
type LoginStep struct {
	Step        int    `json:"step"`
	Action      string `json:"action"`
	Description string `json:"description"`
}

// DataSource is a catalog entry.
type DataSource struct {
	ID                 int64  `json:"id"`
	SourceName         string `json:"sourceName"`
	Name               string `json:"name"`
	Description        string `json:"description"`
	LogoURL            string `json:"logoUrl"`
	Category           string `json:"category"`
	VerificationTypeID int64  `json:"verificationTypeId"`
	Kind               string `json:"kind"`
	ProviderID         string `json:"providerId"`
	// ProviderHashes are the Reclaim provider hashes (a proof's
	// context.providerHash) this source accepts. A live proof for a source
	// with none is refused: the deployment must say which providers prove it.
	ProviderHashes []string    `json:"providerHashes"`
	LoginFlow      []LoginStep `json:"loginFlow"`
	TestOnly       bool        `json:"testOnly"`
	Builtin        bool        `json:"builtin"`
	CreatedAt      time.Time   `json:"createdAt"`
	UpdatedAt      time.Time   `json:"updatedAt"`
}

// Session is a verification session for one applicant.
type Session struct {
	ID                 int64
	OrgID              string
	Mode               Mode
	Status             SessionStatus
	Version            int64 // optimistic lock: bumped by every write
	ExpiryDate         time.Time
	Metadata           json.RawMessage
	ApplicantID        string
	ApplicantData      json.RawMessage
	Instructions       string
	ApplicantFirstName string
	ApplicantLastName  string
	ApplicantEmail     string
	AllowedSources     []int64
	SelectedPlatform   *int64
	VerificationTypeID *int64
	RedirectURL        string
	LinkHash           []byte
	// LinkSealed is the current link token, sealed to LinkHash, so that
	// the link (and its QR code) can be shown again; empty for sessions
	// made before it was kept.
	LinkSealed []byte
	// ExternalReferenceID is the creator's own reference (Konfir's
	// externalReferenceId); State is echoed back on the redirect.
	ExternalReferenceID string
	State               string
	ApplicantPhone      string
	ApplicantDOB        string // YYYY-MM-DD, or ""
	CancelReason        CancelReason
	CreatedBy           string
	ReviewerID          string
	ReviewReason        string
	CreatedAt           time.Time
	UpdatedAt           time.Time
	CompletedAt         *time.Time
	// TeamID is the organization's number.
	TeamID int64
}

// Step is one selected source of a session.
type Step struct {
	ID            int64
	SessionID     int64
	DataSourceID  int64
	Type          string // the source's kind
	Status        StepStatus
	Nonce         string // the value a Reclaim proof's context must carry
	Metadata      json.RawMessage
	Results       json.RawMessage
	FailureReason string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// ProofRecord is an accepted proof.
type ProofRecord struct {
	Identifier string
	StepID     int64
	Signer     string
	CreatedAt  time.Time
}

// StepUpdate is a step's new state, written only if its status is still
// FromStatus.
type StepUpdate struct {
	Step       *Step
	FromStatus StepStatus
}

// SessionChange is one change of a session, which a store writes in one
// transaction or not at all: the session (only if its Version is still
// the one read, else ECONFLICT), steps created and updated, accepted
// proofs (ECONFLICT if one was accepted before), audit and outbox events.
type SessionChange struct {
	Session  *Session
	NewSteps []*Step
	Steps    []StepUpdate
	Proofs   []ProofRecord
	// RevokeCSRF ends every CSRF token of the session (a renewed link).
	RevokeCSRF bool
	Audit      []AuditEvent
	Events     []OutboxEvent
}

// SessionFilter selects sessions for the reviewer list.
type SessionFilter struct {
	OrgIDs    []string
	Mode      Mode
	Status    SessionStatus
	SortBy    string // createdAt, updatedAt or status
	SortOrder string // asc or desc
	Limit     int
	Offset    int
}

// IdempotencyRecord is a request stored under an Idempotency-Key.
type IdempotencyRecord struct {
	RequestHash []byte
	Status      int // 0 while the first request runs
	Body        string
	CreatedAt   time.Time
}
