package delivery

import (
	"context"
	"time"

	"github.com/verigate/verigate"
)

// reach is the organizations whose endpoints the principal sees: its
// own reach, or the system's own organization.
func reach(p *verigate.Principal) []string {
	if p.Kind == verigate.PrincipalSystem {
		return []string{p.OrgID}
	}
	return p.Orgs
}

// Stats sums up the delivery attempts made in [from, to) to the
// endpoints in the principal's reach and mode: how many, how many
// succeeded, and their latency's median and 95th percentile.
func (s *Service) Stats(ctx context.Context, from, to time.Time) (verigate.WebhookStats, error) {
	if err := verigate.Authorize(ctx, "webhooks.read", verigate.Object{}, nil); err != nil {
		return verigate.WebhookStats{}, err
	}
	if !to.After(from) {
		return verigate.WebhookStats{}, verigate.FieldError("to", "must be after from")
	}
	p := verigate.PrincipalFrom(ctx)
	return s.store.WebhookAttemptStats(ctx, reach(p), p.Mode, from, to)
}

// SubjectMessages lists up to limit messages, newest first, sent to the
// endpoints in the principal's reach and mode for the events of
// organization orgID about subject (a verification's id): what was
// delivered about one object. Another tenant's organization answers as
// one without messages would not: ErrNotFound.
func (s *Service) SubjectMessages(ctx context.Context, orgID, subject string, limit int) ([]*verigate.WebhookMessage, error) {
	if err := verigate.Authorize(ctx, "webhooks.read", verigate.Object{Org: orgID}, ErrNotFound); err != nil {
		return nil, err
	}
	if limit < 1 || limit > 100 {
		return nil, verigate.FieldError("limit", "must be between 1 and 100")
	}
	p := verigate.PrincipalFrom(ctx)
	list, err := s.store.SubjectWebhookMessages(ctx, reach(p), p.Mode, orgID, subject, limit)
	if list == nil && err == nil {
		list = []*verigate.WebhookMessage{}
	}
	return list, err
}
