package delivery

import (
	"context"
	"encoding/json"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/webhook"
)

// newSecret is a new endpoint secret (a variable: tests may pin it).
var newSecret = webhook.NewSecret

// MessageFilter selects an endpoint's messages in the delivery log,
// newest first.
type MessageFilter struct {
	Status    verigate.WebhookMessageStatus
	EventType verigate.EventType
	Since     time.Time
	Until     time.Time
	Before    string // cursor: the last id of the previous page
	Limit     int    // 1 to 100
}

// Messages returns a page of an endpoint's delivery log.
func (s *Service) Messages(ctx context.Context, endpointID string, f MessageFilter) ([]*verigate.WebhookMessage, error) {
	if _, err := s.endpoint(ctx, "webhooks.read", endpointID); err != nil {
		return nil, err
	}
	if f.Limit < 1 || f.Limit > 100 {
		return nil, verigate.FieldError("limit", "must be between 1 and 100")
	}
	if f.Status != "" && !f.Status.Valid() {
		return nil, verigate.FieldError("status", "must be pending, sending, delivered, failed or aborted")
	}
	if f.EventType != "" && !verigate.IsWebhookEventType(f.EventType) {
		return nil, verigate.FieldError("event_type", "is not a known event type")
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		return nil, verigate.FieldError("until", "must be after since")
	}
	list, err := s.store.ListWebhookMessages(ctx, verigate.WebhookMessageFilter{EndpointID: endpointID, Status: f.Status,
		EventType: f.EventType, Since: f.Since, Until: f.Until, Before: f.Before, Limit: f.Limit})
	if list == nil && err == nil {
		list = []*verigate.WebhookMessage{}
	}
	return list, err
}

// LogEntry is a message of the delivery log with its latest attempt (nil
// before the first).
type LogEntry struct {
	Message *verigate.WebhookMessage
	Last    *verigate.WebhookAttempt
}

// Log returns a page of an endpoint's delivery log as Messages does, each
// message with its latest attempt: what a person reads first.
func (s *Service) Log(ctx context.Context, endpointID string, f MessageFilter) ([]LogEntry, error) {
	list, err := s.Messages(ctx, endpointID, f)
	if err != nil {
		return nil, err
	}
	out := make([]LogEntry, 0, len(list))
	for _, m := range list {
		e := LogEntry{Message: m}
		if m.Attempts > 0 {
			attempts, err := s.store.ListWebhookAttempts(ctx, m.ID)
			if err != nil {
				return nil, err
			}
			if len(attempts) > 0 {
				e.Last = &attempts[len(attempts)-1]
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// message returns one of an endpoint's messages the principal may use
// with perm.
func (s *Service) message(ctx context.Context, perm verigate.Permission, endpointID, id string) (*verigate.WebhookMessage, *verigate.WebhookEndpoint, error) {
	e, err := s.endpoint(ctx, perm, endpointID)
	if err != nil {
		return nil, nil, err
	}
	m, err := s.store.GetWebhookMessage(ctx, id)
	if verigate.ErrorCode(err) == verigate.ENOTFOUND || (err == nil && m.EndpointID != e.ID) {
		return nil, nil, ErrMessageNotFound
	}
	return m, e, err
}

// Message returns one of an endpoint's messages with its attempts.
func (s *Service) Message(ctx context.Context, endpointID, id string) (*verigate.WebhookMessage, []verigate.WebhookAttempt, error) {
	m, _, err := s.message(ctx, "webhooks.read", endpointID, id)
	if err != nil {
		return nil, nil, err
	}
	attempts, err := s.store.ListWebhookAttempts(ctx, id)
	if attempts == nil && err == nil {
		attempts = []verigate.WebhookAttempt{}
	}
	return m, attempts, err
}

// Redeliver queues a message (delivered, failed or aborted) for another
// attempt now, with the same id, on a fresh retry schedule. A message
// still queued is ECONFLICT.
func (s *Service) Redeliver(ctx context.Context, endpointID, id string) error {
	_, e, err := s.message(ctx, "webhooks.update", endpointID, id)
	if err != nil {
		return err
	}
	now := s.now()
	if err := s.store.RedeliverWebhookMessage(ctx, id, now,
		verigate.NewAuditEvent(ctx, now, "webhook_message.redeliver", "webhook_message", id, e.OrgID)); err != nil {
		return err
	}
	s.wake()
	return nil
}

// Replay queues again an endpoint's messages created since a time that
// are not queued — only the failed and aborted ones when onlyFailed —
// with their ids, in their order; it returns how many.
func (s *Service) Replay(ctx context.Context, endpointID string, since time.Time, onlyFailed bool) (int, error) {
	e, err := s.endpoint(ctx, "webhooks.update", endpointID)
	if err != nil {
		return 0, err
	}
	now := s.now()
	if since.IsZero() || since.After(now) {
		return 0, verigate.FieldError("since", "is required, and must not be in the future")
	}
	ev := verigate.NewAuditEvent(ctx, now, "webhook_endpoint.replay", "webhook_endpoint", e.ID, e.OrgID)
	ev.Details = map[string]any{"since": since, "onlyFailed": onlyFailed}
	n, err := s.store.ReplayWebhookMessages(ctx, e.ID, since, onlyFailed, now, ev)
	if err != nil {
		return 0, err
	}
	if n > 0 {
		s.wake()
	}
	return n, nil
}

// SendTest queues a test message of eventType (webhook.test when empty)
// to an endpoint, behind what it already has queued; the body is the
// event type's shape with a test flag for data.
func (s *Service) SendTest(ctx context.Context, endpointID string, eventType verigate.EventType) (*verigate.WebhookMessage, error) {
	e, err := s.endpoint(ctx, "webhooks.update", endpointID)
	if err != nil {
		return nil, err
	}
	if eventType == "" {
		eventType = verigate.EventWebhookTest
	}
	if !verigate.IsWebhookEventType(eventType) {
		return nil, verigate.FieldError("event_type", "is not a known event type")
	}
	if !e.Enabled {
		return nil, verigate.Errorf(verigate.ECONFLICT, "The endpoint is disabled; enable it to send to it.")
	}
	now := s.now()
	body, err := json.Marshal(struct {
		Type      verigate.EventType `json:"type"`
		Timestamp string             `json:"timestamp"`
		Data      any                `json:"data"`
	}{eventType, now.Format(time.RFC3339Nano), map[string]any{"endpointId": e.ID, "test": true}})
	if err != nil {
		return nil, err
	}
	m := &verigate.WebhookMessage{EndpointID: e.ID, EventType: eventType, Body: body, Trigger: verigate.TriggerTest, CreatedAt: now}
	ev := verigate.NewAuditEvent(ctx, now, "webhook_endpoint.test", "webhook_endpoint", e.ID, e.OrgID)
	ev.Details = map[string]any{"eventType": string(eventType)}
	if err := s.store.InsertWebhookMessage(ctx, m, ev); err != nil {
		return nil, err
	}
	s.wake()
	return m, nil
}

// render is a message's body for endpoint ep, rendered at dispatch; nil
// when its flavour has nothing for the event. An event that fails to
// render is logged and skipped, never left to block every later one.
func (s *Service) render(e verigate.Event, ep *verigate.WebhookEndpoint) ([]byte, error) {
	var body []byte
	var err error
	switch ep.Flavour {
	case verigate.FlavourReconbanker:
		if s.opts.Reconbanker != nil {
			body, err = s.opts.Reconbanker(e)
			break
		}
		var ok bool
		if body, ok, err = e.ReconbankerBody(); !ok {
			return nil, err
		}
	default:
		body, err = e.WebhookBody(ep.IncludePII)
	}
	if err != nil {
		s.log.Error("render a webhook body", "err", err, "event", e.ID, "type", e.Type, "flavour", ep.Flavour)
		return nil, nil
	}
	return body, nil
}
