package delivery

import (
	"context"

	"github.com/verigate/verigate"
)

// EventFilter selects a page of the event stream.
type EventFilter struct {
	Type  verigate.EventType // "": every type
	After int64              // cursor: the last id of the previous page
	Limit int                // 1 to 100
}

// Events returns a page of the event stream of the principal's reach (its
// organization and the descendants its credential reaches) in its mode,
// oldest first: what webhooks deliver, for a client that polls.
func (s *Service) Events(ctx context.Context, f EventFilter) ([]verigate.Event, error) {
	if err := verigate.Authorize(ctx, "events.read", verigate.Object{}, nil); err != nil {
		return nil, err
	}
	if f.Limit < 1 || f.Limit > 100 {
		return nil, verigate.FieldError("limit", "must be between 1 and 100")
	}
	if f.After < 0 {
		return nil, verigate.FieldError("after", "must be an event id")
	}
	if f.Type != "" && !verigate.IsWebhookEventType(f.Type) {
		return nil, verigate.FieldError("type", "is not a known event type")
	}
	p := verigate.PrincipalFrom(ctx)
	orgs := p.Orgs
	if p.Kind == verigate.PrincipalSystem {
		orgs = []string{p.OrgID}
	}
	list, err := s.store.ListEventsIn(ctx, verigate.EventFilter{OrgIDs: orgs, Mode: p.Mode, Type: f.Type, After: f.After, Limit: f.Limit})
	if list == nil && err == nil {
		list = []verigate.Event{}
	}
	return list, err
}
