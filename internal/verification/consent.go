package verification

import (
	"context"

	"github.com/verigate/verigate"
)

// ConsentTo records that session sessionID's applicant agreed to share
// (the terms the consent page shows), with an audit event; agreeing again
// changes nothing.
func (s *Service) ConsentTo(ctx context.Context, sessionID int64) error {
	sess, err := s.session(ctx, "verifications.update", sessionID, sessionPart)
	if err != nil {
		return err
	}
	now := s.now()
	if !sessionOpen(sess, now) {
		return verigate.Errorf(verigate.ECONFLICT, "The session is %s.", sess.Status)
	}
	ev := s.audit(ctx, "verification.consent", "verification", sessionIDString(sess.ID), sess.OrgID)
	return s.journeyStore().RecordConsent(ctx, verigate.JourneyConsent{SessionID: sess.ID, ConsentedAt: now}, ev)
}
