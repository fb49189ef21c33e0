package verigate

import (
	"encoding/json"
	"strconv"
	"time"
)

// Every payload below is a webhook message's data: camelCase, thin (ids,
// statuses, reasons, times), its personal data under a last member "pii"
// (see Event.Data). The OpenAPI document's webhooks section describes
// each; a test validates these payloads against it.

// SessionEvent announces a session's creation, a status change, or a
// status change of one of its steps. Its fields are the session (and
// step) as they were when the event was made; only the session's id is
// read when it is written.
type SessionEvent struct {
	Type        EventType
	Status      SessionStatus
	ApplicantID string
	Reason      string // a failed step's reason, or a reviewer's
	ReviewerID  string
	// A step event's step.
	StepID     int64
	StepStatus StepStatus
	SourceID   int64
	// Personal data.
	Metadata           json.RawMessage
	ApplicantFirstName string
	ApplicantLastName  string
	ApplicantEmail     string
	session            *Session
}

func newSessionEvent(typ EventType, sess *Session) SessionEvent {
	meta := sess.Metadata
	if len(meta) == 0 {
		meta = json.RawMessage("{}")
	}
	return SessionEvent{Type: typ, Status: sess.Status, ApplicantID: sess.ApplicantID, Metadata: meta,
		ApplicantFirstName: sess.ApplicantFirstName, ApplicantLastName: sess.ApplicantLastName,
		ApplicantEmail: sess.ApplicantEmail, session: sess}
}

// NewVerificationCreated announces a new session (sess may be unsaved).
func NewVerificationCreated(sess *Session, at time.Time) OutboxEvent {
	return OutboxEvent{Body: newSessionEvent(EventVerificationCreated, sess), At: at}
}

// NewVerificationStatus announces a session's move to its current status;
// a reviewed session names its reviewer and reason.
func NewVerificationStatus(sess *Session, at time.Time) OutboxEvent {
	e := newSessionEvent(announce(sessionEventTypes, sess.Status), sess)
	if sess.Status == SessionCompleted || sess.Status == SessionRejected {
		e.ReviewerID, e.Reason = sess.ReviewerID, sess.ReviewReason
	}
	return OutboxEvent{Body: e, At: at}
}

// NewStepUpdated announces that step st of sess moved to its current
// status (with its failure reason, if it failed).
func NewStepUpdated(sess *Session, st *Step, at time.Time) OutboxEvent {
	e := newSessionEvent(EventStepUpdated, sess)
	e.StepID, e.StepStatus, e.SourceID, e.Reason = st.ID, st.Status, st.DataSourceID, st.FailureReason
	return OutboxEvent{Body: e, At: at}
}

// EventType is the event's type.
func (e SessionEvent) EventType() EventType { return e.Type }

// EventSubject is the session's id.
func (e SessionEvent) EventSubject() string { return strconv.FormatInt(e.session.ID, 10) }

// EventOrg is the session's organization and mode.
func (e SessionEvent) EventOrg() (string, Mode) { return e.session.OrgID, e.session.Mode }

// MarshalJSON is the payload.
func (e SessionEvent) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(struct {
		SessionID   int64         `json:"sessionId"`
		Status      SessionStatus `json:"status"`
		ApplicantID string        `json:"applicantId"`
		StepID      int64         `json:"stepId,omitempty"`
		StepStatus  StepStatus    `json:"stepStatus,omitempty"`
		SourceID    int64         `json:"sourceId,omitempty"`
		Reason      string        `json:"reason,omitempty"`
		ReviewerID  string        `json:"reviewerId,omitempty"`
	}{e.session.ID, e.Status, e.ApplicantID, e.StepID, e.StepStatus, e.SourceID, e.Reason, e.ReviewerID})
	if err != nil {
		return nil, err
	}
	return withPII(b, struct {
		Metadata  json.RawMessage `json:"metadata"`
		FirstName string          `json:"applicantFirstName,omitempty"`
		LastName  string          `json:"applicantLastName,omitempty"`
		Email     string          `json:"applicantEmail,omitempty"`
	}{e.Metadata, e.ApplicantFirstName, e.ApplicantLastName, e.ApplicantEmail})
}

// ConnectionStatusEvent announces that a connection connected or failed.
type ConnectionStatusEvent struct {
	Type          EventType        `json:"-"`
	AccountID     string           `json:"accountId"`
	Status        ConnectionStatus `json:"status"`
	SourceID      int64            `json:"sourceId"`
	SessionID     int64            `json:"sessionId,omitempty"` // the verification session it serves
	StepID        int64            `json:"stepId,omitempty"`    // and that session's step
	FailureReason string           `json:"failureReason,omitempty"`
	FailureKind   FailureKind      `json:"failureKind,omitempty"`
	org           string
	mode          Mode
}

func newConnectionEvent(typ EventType, c *Connection) ConnectionStatusEvent {
	e := ConnectionStatusEvent{Type: typ, AccountID: c.ID, Status: c.Status, SourceID: c.SourceID, SessionID: c.SessionID,
		org: c.OrgID, mode: c.Mode}
	if c.StepID != nil {
		e.StepID = *c.StepID
	}
	return e
}

// NewConnectionConnected announces that c connected.
func NewConnectionConnected(c *Connection, at time.Time) OutboxEvent {
	return OutboxEvent{Body: newConnectionEvent(EventConnectionConnected, c), At: at}
}

// NewConnectionFailed announces that c failed, for its FailureReason, a
// failure of kind kind.
func NewConnectionFailed(c *Connection, kind FailureKind, at time.Time) OutboxEvent {
	e := newConnectionEvent(EventConnectionFailed, c)
	e.FailureReason, e.FailureKind = c.FailureReason, kind
	return OutboxEvent{Body: e, At: at}
}

// EventType is the event's type.
func (e ConnectionStatusEvent) EventType() EventType { return e.Type }

// EventSubject is the connection's id.
func (e ConnectionStatusEvent) EventSubject() string { return e.AccountID }

// EventOrg is the connection's organization and mode.
func (e ConnectionStatusEvent) EventOrg() (string, Mode) { return e.org, e.mode }

// AssistanceEvent announces a login's request for a code, or its end.
// The account's status is read when the event is written: the status the
// change leaves it in.
type AssistanceEvent struct {
	AccountID  string       `json:"accountId"`
	RequestID  string       `json:"requestId"`
	Type       string       `json:"type"`       // what is asked (otp)
	Status     AssistStatus `json:"status"`     // pending, or how it ended
	Descriptor Descriptor   `json:"descriptor"` // the code asked for
	ExpiresAt  time.Time    `json:"expiresAt"`
	ResolvedAt *time.Time   `json:"resolvedAt,omitempty"`
	conn       *Connection
}

// NewAssistanceEvent announces request r of connection c: required while
// it is pending, resolved once it is not.
func NewAssistanceEvent(c *Connection, r *AssistanceRequest, at time.Time) OutboxEvent {
	return OutboxEvent{Body: AssistanceEvent{AccountID: c.ID, RequestID: r.ID, Type: r.Type, Status: r.Status,
		Descriptor: r.Descriptor, ExpiresAt: r.ExpiresAt.UTC(), ResolvedAt: r.ResolvedAt, conn: c}, At: at}
}

// EventType is the event's type.
func (e AssistanceEvent) EventType() EventType {
	if e.Status == AssistPending {
		return EventAssistanceRequired
	}
	return EventAssistanceResolved
}

// EventSubject is the connection's id.
func (e AssistanceEvent) EventSubject() string { return e.AccountID }

// EventOrg is the connection's organization and mode.
func (e AssistanceEvent) EventOrg() (string, Mode) { return e.conn.OrgID, e.conn.Mode }

// MarshalJSON is the payload, with the account's status.
func (e AssistanceEvent) MarshalJSON() ([]byte, error) {
	type plain AssistanceEvent
	return json.Marshal(struct {
		plain
		AccountStatus ConnectionStatus `json:"accountStatus"`
	}{plain(e), e.conn.Status})
}

// CallMode is the mode of every call event: calls come from real call
// centres and have no test mode.
const CallMode = ModeLive

// CallStatusEvent announces that a call entered the queue or that an
// operator decided on it. Its fields are the call as it was when the
// event was made.
type CallStatusEvent struct {
	VoiceID        string     `json:"voiceId"`
	InstitutionKey string     `json:"institutionKey"`
	Status         CallStatus `json:"status"`
	PersonID       string     `json:"personId,omitempty"`
	ValidationType string     `json:"validationType,omitempty"`
	Reason         string     `json:"reason,omitempty"` // a rejection's reason
	ReceivedAt     time.Time  `json:"receivedAt"`
	// Personal data.
	PhoneNumber string `json:"-"`
	CallerName  string `json:"-"`
	MemberName  string `json:"-"`
	org         string
}

// NewCallStatus announces that call c of institution inst moved to its
// current status; reason is a rejection's.
func NewCallStatus(inst *Organization, c *PhoneCall, reason string, at time.Time) OutboxEvent {
	e := CallStatusEvent{VoiceID: c.VoiceID, InstitutionKey: inst.Key, Status: c.Status, PersonID: c.PersonID,
		ValidationType: c.ValidationType, Reason: reason, ReceivedAt: c.ReceivedAt.UTC(), PhoneNumber: c.PhoneNumber,
		CallerName: c.CallerName, org: inst.ID}
	if c.Member != nil {
		e.MemberName = c.Member.Name
	}
	announce(callEventTypes, c.Status)
	return OutboxEvent{Body: e, At: at}
}

// EventType is the event's type.
func (e CallStatusEvent) EventType() EventType { return announce(callEventTypes, e.Status) }

// EventSubject is the call's voice id.
func (e CallStatusEvent) EventSubject() string { return e.VoiceID }

// EventOrg is the call's institution and CallMode.
func (e CallStatusEvent) EventOrg() (string, Mode) { return e.org, CallMode }

// MarshalJSON is the payload.
func (e CallStatusEvent) MarshalJSON() ([]byte, error) {
	type plain CallStatusEvent
	b, err := json.Marshal(plain(e))
	if err != nil {
		return nil, err
	}
	return withPII(b, struct {
		PhoneNumber string `json:"phoneNumber"`
		CallerName  string `json:"callerName"`
		MemberName  string `json:"memberName,omitempty"`
	}{e.PhoneNumber, e.CallerName, e.MemberName})
}

// WebhookTestEvent is a test message an endpoint's owner asked for.
type WebhookTestEvent struct {
	EndpointID string `json:"endpointId"`
	Message    string `json:"message"`
	org        string
	mode       Mode
}

// NewWebhookTest is a test message for endpoint endpointID of an
// organization, in a mode.
func NewWebhookTest(orgID string, mode Mode, endpointID string, at time.Time) OutboxEvent {
	return OutboxEvent{Body: WebhookTestEvent{EndpointID: endpointID, Message: "A test message from Verigate.",
		org: orgID, mode: mode}, At: at}
}

// EventType is webhook.test.
func (WebhookTestEvent) EventType() EventType { return EventWebhookTest }

// EventSubject is the endpoint's id.
func (e WebhookTestEvent) EventSubject() string { return e.EndpointID }

// EventOrg is the endpoint's organization and mode.
func (e WebhookTestEvent) EventOrg() (string, Mode) { return e.org, e.mode }
