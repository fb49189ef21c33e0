package verigate

import "time"

// CallStatus is where a phone call is. A call enters the queue (queued), an operator
// assigns it to a member (assigned), then enrolls the caller's voice
// (enrolled) or rejects it (rejected). An enrolled call may still be
// rejected, which un-enrolls the member's voice. internal/calls holds the
// transitions, by operator action.
type CallStatus string

// Phone-call statuses.
const (
	CallQueued   CallStatus = "queued"
	CallAssigned CallStatus = "assigned"
	CallEnrolled CallStatus = "enrolled"
	CallRejected CallStatus = "rejected"
)

// ValidationTypes are how an operator verified a caller before enrolling.
var ValidationTypes = []string{"voice", "otp", "kba", "callback", "in_person"}

// Risk is a voice provider's assessment of a call.
type Risk struct {
	Score int    `json:"score"` // 0 (no risk) to 100
	Level string `json:"level"` // low, medium or high
}

// RiskLevel names the level of a score.
func RiskLevel(score int) string {
	switch {
	case score < 30:
		return "low"
	case score < 70:
		return "medium"
	default:
		return "high"
	}
}

// CallEvent is one entry in a call's event log: the voice provider's
// (received, ivr, risk) and the operators' (assigned, enrolled, rejected).
type CallEvent struct {
	Type   string    `json:"type"`
	At     time.Time `json:"at"`
	Detail string    `json:"detail,omitempty"`
}

// PhoneCall is an inbound call to an institution's call centre.
type PhoneCall struct {
	VoiceID        string
	InstitutionID  string
	Provider       string
	ProviderCallID string
	PhoneNumber    string
	CallerName     string
	ReceivedAt     time.Time
	Status         CallStatus
	PersonID       string
	Risk           Risk
	Verified       bool
	ValidationType string
	DecidedBy      string
	DecidedAt      *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
	Events         []CallEvent
	// Member is the assigned member, when there is one.
	Member *Member
}

// Member is a person an institution's call centre verifies.
type Member struct {
	InstitutionID     string
	PersonID          string
	Name              string
	VoiceEnrolled     bool
	EnrolledVoiceID   string
	EnrolledAt        *time.Time
	VerificationCount int
	LastVerifiedAt    *time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// MemberVerification records that an operator verified a member on a call.
type MemberVerification struct {
	InstitutionID  string
	PersonID       string
	VoiceID        string
	ValidationType string
	RequestedBy    string
	CreatedAt      time.Time
}

// CallFilter selects calls of one institution's queue.
type CallFilter struct {
	InstitutionID string
	Statuses      []CallStatus
	Search        string // phone number, caller name or member name
	From, To      *time.Time
	Limit, Offset int
}

// CallChange is one transition of a call, which a store writes in one
// transaction: the call's new state (only if its status is still
// FromStatus, else ECONFLICT), the member it touches, a verification
// record, new events, audit events and outbox events.
type CallChange struct {
	Call       *PhoneCall
	FromStatus CallStatus
	// FromPersonID is the member the call was assigned to when read; a call
	// reassigned meanwhile is ECONFLICT.
	FromPersonID string
	Member       *Member
	// MemberEnrollment says the change is an enrollment decision: it writes
	// the member's enrollment columns (and counts a verification when there
	// is one); otherwise it writes only the member's name.
	MemberEnrollment bool
	Verification     *MemberVerification
	Events           []CallEvent
	Audit            []AuditEvent
	Outbox           []OutboxEvent
}
