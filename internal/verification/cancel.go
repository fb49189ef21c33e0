package verification

import (
	"context"
	"slices"

	"github.com/verigate/verigate"
)

// Cancel ends an open verification (PENDING, PROCESSING or REVIEWING) as
// CANCELLED for reason (verifier_cancelled when empty; or duplicate,
// rejected), with its open steps EXPIRED so that no connector finishing
// late moves it again; its link stops working. An ended one is a
// conflict.
// It returns the verification as it is then (as Verification does).
func (s *Service) Cancel(ctx context.Context, id int64, reason verigate.CancelReason) (*Verification, error) {
	if reason == "" {
		reason = verigate.CancelVerifier
	}
	if !slices.Contains(verigate.CancelReasons, reason) {
		return nil, verigate.FieldError("reason", "must be verifier_cancelled, duplicate or rejected")
	}
	sess, err := s.session(ctx, "verifications.update", id, wholeSession)
	if err != nil {
		return nil, err
	}
	if sess.Status.Ended() {
		return nil, verigate.Errorf(verigate.ECONFLICT, "The verification is %s; it cannot be cancelled.", sess.Status)
	}
	steps, err := s.store.ListSteps(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := moveSession(sess, verigate.SessionCancelled); err != nil {
		return nil, err
	}
	now := s.now()
	sess.CancelReason, sess.UpdatedAt, sess.CompletedAt = reason, now, &now
	ev := s.audit(ctx, "verification.cancel", "verification", sessionIDString(id), sess.OrgID)
	ev.Details = map[string]any{"reason": string(reason)}
	ch := verigate.SessionChange{Session: sess, RevokeCSRF: true, Audit: []verigate.AuditEvent{ev}}
	for _, st := range steps {
		if !st.Status.Ended() {
			st.UpdatedAt = now
			if err := moveStep(&ch, st, verigate.StepExpired, now); err != nil {
				return nil, err
			}
		}
	}
	ch.Events = append(ch.Events, verigate.NewVerificationStatus(sess, now))
	if err := s.store.ApplySessionChange(ctx, ch); err != nil {
		return nil, err
	}
	return s.view(ctx, sess, steps, true)
}
