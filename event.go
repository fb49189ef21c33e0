package verigate

import (
	"bytes"
	"encoding/json"
	"fmt"
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
	EventVerificationFailed     EventType = "verification.failed"
	EventVerificationExpired    EventType = "verification.expired"
	EventVerificationRejected   EventType = "verification.rejected"
	EventVerificationCancelled  EventType = "verification.cancelled"
	EventStepUpdated            EventType = "step.updated"
	EventAssistanceRequired     EventType = "assistance.required"
	EventAssistanceResolved     EventType = "assistance.resolved"
	EventConnectionConnected    EventType = "connection.connected"
	EventConnectionFailed       EventType = "connection.failed"
	EventCallQueued             EventType = "call.queued"
	EventCallAssigned           EventType = "call.assigned"
	EventCallEnrolled           EventType = "call.enrolled"
	EventCallRejected           EventType = "call.rejected"
	EventWebhookTest            EventType = "webhook.test"
)

// WebhookEventType is an entry of the webhook catalogue.
type WebhookEventType struct {
	Type        EventType
	Description string
}

// WebhookEventTypes is every event type an endpoint may subscribe to, in
// the order the documentation lists them.
var WebhookEventTypes = []WebhookEventType{
	{EventVerificationCreated, "A verification session was created (PENDING)."},
	{EventVerificationProcessing, "The applicant chose a first source: the session is PROCESSING."},
	{EventVerificationReviewing, "Every step has ended and the session awaits a reviewer (REVIEWING)."},
	{EventVerificationCompleted, "The session is COMPLETED: every step succeeded, or a reviewer approved it."},
	{EventVerificationFailed, "The session FAILED: a step failed under the review policy never."},
	{EventVerificationExpired, "The session passed its expiry date before it ended (EXPIRED)."},
	{EventVerificationRejected, "A reviewer rejected the session (REJECTED)."},
	{EventVerificationCancelled, "The session was cancelled (CANCELLED)."},
	{EventStepUpdated, "A step of a session changed status (INITIATED, IN_PROGRESS, VERIFIED, COMPLETED, FAILED, EXPIRED)."},
	{EventAssistanceRequired, "A login waits for a one-time code from the applicant."},
	{EventAssistanceResolved, "A request for a code ended: fulfilled, cancelled or expired."},
	{EventConnectionConnected, "A connection logged in and fetched its data."},
	{EventConnectionFailed, "A connection failed: the login was refused (login) or the data could not be fetched (scrape)."},
	{EventCallQueued, "A call entered an institution's verification queue."},
	{EventCallAssigned, "An operator assigned a queued call to a member."},
	{EventCallEnrolled, "An operator verified the caller and enrolled the member's voice."},
	{EventCallRejected, "An operator rejected the caller's voice; the member's voice is un-enrolled."},
	{EventEndpointDisabled, "An endpoint was disabled: it kept failing for 5 days, or answered 410 Gone."},
	{EventWebhookTest, "A test message sent on request to check an endpoint."},
}

// sessionEventTypes is the event each session status announces (a new
// session announces EventVerificationCreated instead).
var sessionEventTypes = map[SessionStatus]EventType{
	SessionProcessing: EventVerificationProcessing,
	SessionReviewing:  EventVerificationReviewing,
	SessionCompleted:  EventVerificationCompleted,
	SessionRejected:   EventVerificationRejected,
	SessionFailed:     EventVerificationFailed,
	SessionExpired:    EventVerificationExpired,
	SessionCancelled:  EventVerificationCancelled,
}

// callEventTypes is the event each call status announces.
var callEventTypes = map[CallStatus]EventType{
	CallQueued:   EventCallQueued,
	CallAssigned: EventCallAssigned,
	CallEnrolled: EventCallEnrolled,
	CallRejected: EventCallRejected,
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
//
// Its Payload is the webhook message's data: a camelCase object whose
// personal data (a session's metadata and applicant details, a caller's
// number and name) is under its last member, "pii", so that Data can
// leave it out by cutting bytes, without parsing.
type Event struct {
	ID        int64
	OrgID     string
	Mode      Mode
	Type      EventType `json:"-"`
	Subject   string    // what it is about: a session id, a connection id, a call's voice id
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

// piiMember starts a payload's personal data: its last member, written
// by withPII. Strings in JSON escape their quotes, and no member before it
// is an object that could hold the key, so its first occurrence is the
// top-level member.
var piiMember = []byte(`,"pii":`)

// withPII appends member "pii", holding pii, to the JSON object obj.
func withPII(obj []byte, pii any) ([]byte, error) {
	p, err := json.Marshal(pii)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(obj)+len(piiMember)+len(p))
	out = append(append(append(out, obj[:len(obj)-1]...), piiMember...), p...)
	return append(out, '}'), nil
}

// Data is the event's webhook data: its payload, without its "pii"
// member unless includePII.
func (e Event) Data(includePII bool) json.RawMessage {
	data, cut := e.data(includePII)
	if cut {
		return append(data[:len(data):len(data)], '}')
	}
	return data
}

// data is the payload, or when cut, its part before the "pii" member
// (which lacks the object's closing brace).
func (e Event) data(includePII bool) (data []byte, cut bool) {
	p := e.Payload
	if len(p) == 0 {
		return []byte("{}"), false
	}
	if !includePII {
		if i := bytes.Index(p, piiMember); i >= 0 {
			return p[:i], true
		}
	}
	return p, false
}

// WebhookBody is the event as a Standard Webhooks message body:
// {"type", "timestamp", "data"}, data being the event's payload. Without
// includePII, fields that describe the applicant are left out.
func (e Event) WebhookBody(includePII bool) ([]byte, error) {
	data, cut := e.data(includePII)
	b := make([]byte, 0, len(e.Type)+len(data)+72)
	b, err := appendQuoted(append(b, `{"type":`...), string(e.Type))
	if err != nil {
		return nil, err
	}
	b = append(b, `,"timestamp":"`...)
	b = e.CreatedAt.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(append(b, `","data":`...), data...)
	if cut {
		b = append(b, '}')
	}
	return append(b, '}'), nil
}

// appendQuoted appends s as a JSON string: an event type, plain ASCII,
// as it is, and anything else through encoding/json.
func appendQuoted(b []byte, s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, err := json.Marshal(s)
			return append(b, q...), err
		}
	}
	return append(append(append(b, '"'), s...), '"'), nil
}

// Reconbanker notification types.
const (
	ReconbankerAssistanceRequired = "assistance_required"
	ReconbankerLoginFailed        = "login_failed"
	ReconbankerScrapeFailed       = "scrape_failed"
)

// ReconbankerBody is the event as Reconbanker's notification sends it:
// {account_id, type, status, data, occurred_at}, status being the
// account's. Only assistance.required (assistance_required) and
// connection.failed (login_failed or scrape_failed, by its failure kind)
// have one; ok is false for every other event.
func (e Event) ReconbankerBody() (body []byte, ok bool, err error) {
	if e.Type != EventAssistanceRequired && e.Type != EventConnectionFailed {
		return nil, false, nil
	}
	var p struct {
		AccountID     string           `json:"accountId"`
		AccountStatus ConnectionStatus `json:"accountStatus"`
		Status        string           `json:"status"`
		RequestID     string           `json:"requestId"`
		Type          string           `json:"type"`
		Descriptor    *Descriptor      `json:"descriptor"`
		ExpiresAt     *time.Time       `json:"expiresAt"`
		FailureReason string           `json:"failureReason"`
		FailureKind   FailureKind      `json:"failureKind"`
	}
	if err := json.Unmarshal(e.Payload, &p); err != nil {
		return nil, false, fmt.Errorf("event %d: %w", e.ID, err)
	}
	n := struct {
		AccountID  string `json:"account_id"`
		Type       string `json:"type"`
		Status     string `json:"status"`
		Data       any    `json:"data"`
		OccurredAt string `json:"occurred_at"`
	}{AccountID: p.AccountID, OccurredAt: e.CreatedAt.UTC().Format(time.RFC3339)}
	if e.Type == EventAssistanceRequired {
		n.Type, n.Status = ReconbankerAssistanceRequired, string(p.AccountStatus)
		var expires string
		if p.ExpiresAt != nil {
			expires = p.ExpiresAt.UTC().Format(time.RFC3339)
		}
		n.Data = struct {
			RequestID  string      `json:"request_id"`
			Type       string      `json:"type"`
			Descriptor *Descriptor `json:"descriptor,omitempty"`
			ExpiresAt  string      `json:"expires_at,omitempty"`
		}{p.RequestID, p.Type, p.Descriptor, expires}
	} else {
		n.Type, n.Status = ReconbankerScrapeFailed, p.Status
		if p.FailureKind == FailureLogin {
			n.Type = ReconbankerLoginFailed
		}
		n.Data = struct {
			Reason string `json:"reason"`
		}{p.FailureReason}
	}
	body, err = json.Marshal(n)
	return body, err == nil, err
}
