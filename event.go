package verigate

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// EventType names an outbox event.
type EventType string

// Outbox event types.
const (
	EventVerificationCreated    EventType = "verification.created"
	EventVerificationProcessing EventType = "verification.processing"
	EventVerificationReviewing  EventType = "verification.reviewing"
	EventVerificationCompleted  EventType = "verification.completed"
	EventVerificationRejected   EventType = "verification.rejected"
	EventVerificationFailed     EventType = "verification.failed"
	EventVerificationExpired    EventType = "verification.expired"
	EventStepVerified           EventType = "step.verified"
	EventStepCompleted          EventType = "step.completed"
	EventStepFailed             EventType = "step.failed"
	EventConnectionConnected    EventType = "connection.connected"
	EventConnectionFailed       EventType = "connection.failed"
	EventAssistanceRequired     EventType = "assistance.required"
	EventAssistanceResolved     EventType = "assistance.resolved"
)

// sessionEventTypes is the event each session status announces (a new
// session announces EventVerificationCreated instead).
var sessionEventTypes = map[SessionStatus]EventType{
	SessionProcessing: EventVerificationProcessing,
	SessionReviewing:  EventVerificationReviewing,
	SessionCompleted:  EventVerificationCompleted,
	SessionRejected:   EventVerificationRejected,
	SessionFailed:     EventVerificationFailed,
	SessionExpired:    EventVerificationExpired,
}

// stepEventTypes is the event each ended step status announces.
var stepEventTypes = map[StepStatus]EventType{
	StepVerified:  EventStepVerified,
	StepCompleted: EventStepCompleted,
	StepFailed:    EventStepFailed,
}

// announce is the event a status announces. A status that announces
// nothing here is a programming error, never an event with no type.
func announce[S ~string](types map[S]EventType, status S) EventType {
	t, ok := types[status]
	if !ok {
		panic(fmt.Sprintf("verigate: status %s announces no event", status))
	}
	return t
}

// Event is an outbox entry as stored: a change announced to webhooks.
type Event struct {
	ID        int64
	OrgID     string
	Mode      Mode
	Type      EventType `json:"-"`
	Subject   string    // what it is about: a session id, a connection id
	Payload   json.RawMessage
	CreatedAt time.Time
}

// EventBody is the typed content of an outbox event.
type EventBody interface {
	EventType() EventType
	// EventSubject, EventOrg and the payload are read when the event is
	// written, in the transaction of its change: a body may name an object
	// that transaction creates (a new session has no id before).
	EventSubject() string
	EventOrg() (string, Mode)
}

// OutboxEvent is an event a change writes to the outbox.
type OutboxEvent struct {
	Body EventBody
	At   time.Time
}

// Render is the event as stored.
func (o OutboxEvent) Render() (Event, error) {
	payload, err := json.Marshal(o.Body)
	if err != nil {
		return Event{}, err
	}
	org, mode := o.Body.EventOrg()
	return Event{OrgID: org, Mode: mode, Type: o.Body.EventType(), Subject: o.Body.EventSubject(), Payload: payload, CreatedAt: o.At}, nil
}

// SessionEvent announces a session's creation, a status change, or the
// end of one of its steps. Its fields are the session as it was when the
// event was made; only the id is read when it is written.
type SessionEvent struct {
	Type        EventType
	Status      SessionStatus
	ApplicantID string
	Metadata    json.RawMessage
	StepID      int64  // a step event's step
	Reason      string // a failed step's reason, or a reviewer's
	ReviewerID  string
	session     *Session
}

func newSessionEvent(typ EventType, sess *Session) SessionEvent {
	meta := sess.Metadata
	if len(meta) == 0 {
		meta = json.RawMessage("{}")
	}
	return SessionEvent{Type: typ, Status: sess.Status, ApplicantID: sess.ApplicantID, Metadata: meta, session: sess}
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

// NewStepEnded announces the end of step st of sess, by its status.
func NewStepEnded(sess *Session, st *Step, at time.Time) OutboxEvent {
	e := newSessionEvent(announce(stepEventTypes, st.Status), sess)
	e.StepID, e.Reason = st.ID, st.FailureReason
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
	return json.Marshal(struct {
		SessionID   int64           `json:"sessionId"`
		Status      SessionStatus   `json:"status"`
		ApplicantID string          `json:"applicantId"`
		Metadata    json.RawMessage `json:"metadata"`
		StepID      int64           `json:"stepId,omitempty"`
		Reason      string          `json:"reason,omitempty"`
		ReviewerID  string          `json:"reviewerId,omitempty"`
	}{e.session.ID, e.Status, e.ApplicantID, e.Metadata, e.StepID, e.Reason, e.ReviewerID})
}

// ConnectionStatusEvent announces that a connection connected or failed.
type ConnectionStatusEvent struct {
	Type      EventType `json:"-"`
	AccountID string    `json:"account_id"`
	Reason    string    `json:"reason,omitempty"`
	org       string
	mode      Mode
}

// NewConnectionEnded announces that c connected or failed, by its status.
func NewConnectionEnded(c *Connection, at time.Time) OutboxEvent {
	e := ConnectionStatusEvent{Type: EventConnectionConnected, AccountID: c.ID, org: c.OrgID, mode: c.Mode}
	if c.Status == ConnFailed {
		e.Type, e.Reason = EventConnectionFailed, c.FailureReason
	}
	return OutboxEvent{Body: e, At: at}
}

// EventType is the event's type.
func (e ConnectionStatusEvent) EventType() EventType { return e.Type }

// EventSubject is the connection's id.
func (e ConnectionStatusEvent) EventSubject() string { return e.AccountID }

// EventOrg is the connection's organization and mode.
func (e ConnectionStatusEvent) EventOrg() (string, Mode) { return e.org, e.mode }

// AssistanceEvent announces a login's request for a code, or its end.
type AssistanceEvent struct {
	AccountID  string       `json:"account_id"`
	RequestID  string       `json:"request_id"`
	Type       string       `json:"type,omitempty"`       // required: what is asked (otp)
	Descriptor *Descriptor  `json:"descriptor,omitempty"` // required: the code asked for
	Status     AssistStatus `json:"status,omitempty"`     // resolved: how it ended
	org        string
	mode       Mode
}

// NewAssistanceEvent announces request r of connection c: required while
// it is pending, resolved once it is not.
func NewAssistanceEvent(c *Connection, r *AssistanceRequest, at time.Time) OutboxEvent {
	e := AssistanceEvent{AccountID: c.ID, RequestID: r.ID, org: c.OrgID, mode: c.Mode}
	if r.Status == AssistPending {
		d := r.Descriptor
		e.Type, e.Descriptor = r.Type, &d
	} else {
		e.Status = r.Status
	}
	return OutboxEvent{Body: e, At: at}
}

// EventType is the event's type.
func (e AssistanceEvent) EventType() EventType {
	if e.Status == "" {
		return EventAssistanceRequired
	}
	return EventAssistanceResolved
}

// EventSubject is the connection's id.
func (e AssistanceEvent) EventSubject() string { return e.AccountID }

// EventOrg is the connection's organization and mode.
func (e AssistanceEvent) EventOrg() (string, Mode) { return e.org, e.mode }

// WebhookBody is the event as a Standard Webhooks message body:
// {"type", "timestamp", "data"}, data being the event's payload. Without
// includePII, fields that describe the applicant are left out.
func (e Event) WebhookBody(includePII bool) ([]byte, error) {
	return json.Marshal(struct {
		Type      EventType       `json:"type"`
		Timestamp string          `json:"timestamp"`
		Data      json.RawMessage `json:"data"`
	}{e.Type, e.CreatedAt.UTC().Format(time.RFC3339Nano), e.Payload})
}
