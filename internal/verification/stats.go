package verification

import (
	"context"
	"time"

	"github.com/verigate/verigate"
)

// Stats are the verifications created in a period, for the overview's
// charts: per day and status, and the journey's funnel.
type Stats struct {
	From, To time.Time
	PerDay   []verigate.DayStatusCount // days with none are left out
	Funnel   verigate.FunnelCounts
}

// MaxStatsPeriod bounds the period Stats counts.
const MaxStatsPeriod = 366 * 24 * time.Hour

// Stats counts the verifications in the caller's reach (its
// organizations', in its mode) created in [from, to): per UTC day and
// status now, and by how far their applicant went.
func (s *Service) Stats(ctx context.Context, from, to time.Time) (*Stats, error) {
	p := verigate.PrincipalFrom(ctx)
	if err := p.Authorize("verifications.read", verigate.Object{}, nil); err != nil {
		return nil, err
	}
	if !to.After(from) || to.Sub(from) > MaxStatsPeriod {
		return nil, verigate.FieldError("to", "must be after from, within a year")
	}
	f := verigate.StatsFilter{OrgIDs: p.Orgs, Mode: p.Mode, From: from, To: to}
	st := &Stats{From: from, To: to}
	var err error
	if st.PerDay, err = s.store.VerificationsPerDay(ctx, f); err != nil {
		return nil, err
	}
	if st.Funnel, err = s.store.VerificationFunnel(ctx, f); err != nil {
		return nil, err
	}
	return st, nil
}
