package verigate

import (
	"encoding/json"
	"time"
)

// EventEndpointDisabled announces that delivery disabled an endpoint (a
// 410 Gone, or five days of failures). It is in WebhookEventTypes.
const EventEndpointDisabled EventType = "endpoint.disabled"

// IsWebhookEventType reports whether t is in WebhookEventTypes.
func IsWebhookEventType(t EventType) bool {
	for _, e := range WebhookEventTypes {
		if e.Type == t {
			return true
		}
	}
	return false
}

// WebhookFlavour is the shape of what an endpoint receives.
type WebhookFlavour string

const (
	// FlavourStandard is Standard Webhooks: {"type", "timestamp", "data"}.
	FlavourStandard WebhookFlavour = "standard"
	// FlavourReconbanker is Reconbanker's notification: {account_id,
	// type, status, data, occurred_at}, with its own headers.
	FlavourReconbanker WebhookFlavour = "reconbanker"
)

// Valid reports whether f is a known flavour.
func (f WebhookFlavour) Valid() bool { return f == FlavourStandard || f == FlavourReconbanker }

// WebhookAuthScheme is the Authorization header an endpoint asks for.
type WebhookAuthScheme string

const (
	AuthNone   WebhookAuthScheme = ""
	AuthBearer WebhookAuthScheme = "Bearer"
	AuthAPIKey WebhookAuthScheme = "Api-Key"
)

// Valid reports whether a is a known scheme (or none).
func (a WebhookAuthScheme) Valid() bool { return a == AuthNone || a == AuthBearer || a == AuthAPIKey }

// WebhookEndpoint is where an organization's events are delivered. Its
// secrets are never part of it: they are stored sealed (WebhookKeys) and
// shown once, when made.
type WebhookEndpoint struct {
	ID          string
	OrgID       string
	Mode        Mode
	URL         string
	Description string
	// EventTypes filters what is delivered; empty means every type.
	EventTypes []EventType
	// IncludeChildren makes a reseller's endpoint receive its child
	// institutions' events too.
	IncludeChildren bool
	// IncludePII lets payloads carry an applicant's details and a
	// session's metadata.
	IncludePII bool
	Flavour    WebhookFlavour
	AuthScheme WebhookAuthScheme
	// RateLimit is the most messages per second sent to it; 0 unbounded.
	RateLimit int
	// SessionID, when not 0, makes it a per-verification endpoint: it
	// receives that session's events only, and is hidden from listings.
	SessionID      int64
	Enabled        bool
	DisabledReason string
	// FailingSince is the first failure since its last success; zero
	// while it is not failing.
	FailingSince time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Wants reports whether the endpoint subscribes to events of type t.
func (e *WebhookEndpoint) Wants(t EventType) bool {
	if len(e.EventTypes) == 0 {
		return true
	}
	for _, x := range e.EventTypes {
		if x == t {
			return true
		}
	}
	return false
}

// WebhookKeys are an endpoint's secrets as stored: sealed bytes, opened
// only by the delivery service to sign.
type WebhookKeys struct {
	Secret []byte // the current whsec_ secret, sealed
	// Previous is the secret a rotation replaced, kept (and signed with)
	// until PreviousUntil; nil when none.
	Previous      []byte
	PreviousUntil time.Time
	AuthToken     []byte // the Authorization token, sealed; nil when none
}

// WebhookEndpointSecret is what creating an endpoint or rotating its
// secret returns: the endpoint, and its secret, shown this once.
type WebhookEndpointSecret struct {
	Endpoint *WebhookEndpoint
	Secret   string
}

// WebhookEndpointFilter selects endpoints, by id, a page at a time.
// Per-verification endpoints are never listed.
type WebhookEndpointFilter struct {
	OrgIDs []string
	Mode   Mode
	After  string // cursor: ids above this one
	Limit  int
}

// EventFilter selects events of the event stream, oldest first, a page
// at a time.
type EventFilter struct {
	OrgIDs []string
	Mode   Mode
	Type   EventType // "": every type
	After  int64     // cursor: ids above this one
	Limit  int
}

// WebhookMessageStatus is where a message stands.
type WebhookMessageStatus string

const (
	MessagePending   WebhookMessageStatus = "pending"
	MessageSending   WebhookMessageStatus = "sending"
	MessageDelivered WebhookMessageStatus = "delivered"
	MessageFailed    WebhookMessageStatus = "failed"
	MessageAborted   WebhookMessageStatus = "aborted"
)

// Valid reports whether s is a known status.
func (s WebhookMessageStatus) Valid() bool {
	switch s {
	case MessagePending, MessageSending, MessageDelivered, MessageFailed, MessageAborted:
		return true
	}
	return false
}

// WebhookTrigger is what set off an attempt.
type WebhookTrigger string

const (
	TriggerScheduled WebhookTrigger = "scheduled"
	TriggerRedeliver WebhookTrigger = "redeliver"
	TriggerReplay    WebhookTrigger = "replay"
	TriggerTest      WebhookTrigger = "test"
)

// WebhookMessage is one event for one endpoint. Its ID is the webhook-id
// receivers deduplicate on, the same on every attempt; its body is
// rendered once, when it is made.
type WebhookMessage struct {
	ID         string
	EndpointID string
	EventID    int64 // 0 for a test message
	EventType  EventType
	Body       json.RawMessage
	Status     WebhookMessageStatus
	// Attempts counts every attempt made; Failures those that failed
	// since it was last queued (its place in the retry schedule).
	Attempts int
	Failures int
	// Trigger is what sets off its next attempt.
	Trigger       WebhookTrigger
	NextAttemptAt time.Time // zero when none is due (delivered, failed, aborted)
	LeaseUntil    time.Time // while sending: when an unfinished claim lapses
	CreatedAt     time.Time
	UpdatedAt     time.Time
	DeliveredAt   time.Time
}

// WebhookMessageFilter selects an endpoint's messages, newest first.
type WebhookMessageFilter struct {
	EndpointID string
	Status     WebhookMessageStatus
	EventType  EventType
	Since      time.Time // created at or after; zero: no bound
	Until      time.Time // created before; zero: no bound
	Before     string    // cursor: ids below this one
	Limit      int
}

// WebhookAttempt is one attempt in the delivery log.
type WebhookAttempt struct {
	ID         int64
	MessageID  string
	EndpointID string
	N          int // 1 for the message's first attempt
	At         time.Time
	Trigger    WebhookTrigger
	StatusCode int // 0 when no response came
	Latency    time.Duration
	Response   string // the response body's first 4 KiB
	Error      string
	// NextAttemptAt is when the message is tried again; zero when not.
	NextAttemptAt time.Time
}

// WebhookBatch is what a worker claims for one endpoint: the head of its
// queue and the pending messages right behind it, in order, held until
// LeaseUntil.
type WebhookBatch struct {
	Endpoint   *WebhookEndpoint
	Keys       WebhookKeys
	Messages   []*WebhookMessage
	LeaseUntil time.Time
}

// WebhookAttemptResult is an attempt made, and the state it leaves its
// message in.
type WebhookAttemptResult struct {
	Attempt  WebhookAttempt
	Status   WebhookMessageStatus
	Failures int
}

// WebhookRecord is what a worker made of one batch, written in one
// transaction.
type WebhookRecord struct {
	EndpointID string
	// LeaseUntil is the batch's lease: a message another worker claimed
	// since (after the lease lapsed) is left as that worker has it.
	LeaseUntil time.Time
	At         time.Time
	Attempts   []WebhookAttemptResult
	// Release are claimed messages left untried, back to pending.
	Release []string
	// Succeeded and Failed say whether an attempt of the batch succeeded
	// or failed: the endpoint's FailingSince is cleared by a success and
	// set by a failure after it.
	Succeeded, Failed bool
	// Disable, when not empty, disables the endpoint for this reason.
	Disable string
	Events  []OutboxEvent
}

// WebhookQueueStats measure the delivery queue.
type WebhookQueueStats struct {
	Depth         int       // messages pending or sending
	OldestPending time.Time // the oldest of them; zero when none
}

// EndpointDisabledEvent announces that delivery disabled an endpoint.
type EndpointDisabledEvent struct {
	EndpointID string `json:"endpointId"`
	URL        string `json:"url"`
	Reason     string `json:"reason"`
	org        string
	mode       Mode
}

// NewEndpointDisabled announces that e was disabled for reason.
func NewEndpointDisabled(e *WebhookEndpoint, reason string, at time.Time) OutboxEvent {
	return OutboxEvent{Body: EndpointDisabledEvent{EndpointID: e.ID, URL: e.URL, Reason: reason, org: e.OrgID, mode: e.Mode}, At: at}
}

// EventType is the event's type.
func (e EndpointDisabledEvent) EventType() EventType { return EventEndpointDisabled }

// EventSubject is the endpoint's id.
func (e EndpointDisabledEvent) EventSubject() string { return e.EndpointID }

// EventOrg is the endpoint's organization and mode.
func (e EndpointDisabledEvent) EventOrg() (string, Mode) { return e.org, e.mode }

// VerificationSecret is an organization's secret, one per mode, for what
// it receives about a single verification: deliveries to a
// verification's own webhookUrl are signed with it (Standard Webhooks
// headers), and so is the redirect back to the partner. Like an
// endpoint's, it is stored sealed and shown only when made.
type VerificationSecret struct {
	OrgID     string
	Mode      Mode
	Keys      WebhookKeys // AuthToken is unused
	CreatedAt time.Time
	RotatedAt time.Time
}
