package verification

import (
	"context"
	"time"

	"github.com/verigate/verigate"
)

// LinkProblem says why a verification link does not open, for a page
// that tells the applicant what to do.
type LinkProblem string

// Link problems.
const (
	LinkInvalid   LinkProblem = "invalid"   // unknown, mistyped, or for another session
	LinkRotated   LinkProblem = "rotated"   // a newer link replaced it
	LinkExpired   LinkProblem = "expired"   // the session ran out of time
	LinkCancelled LinkProblem = "cancelled" // the organization cancelled the session
	LinkFinished  LinkProblem = "finished"  // the applicant already finished
)

// LinkError is ErrBadLink with its reason. The reason is told only to
// whoever holds a token that was the session's; any other token is
// LinkInvalid, so a guessed session id learns nothing.
type LinkError struct {
	Problem LinkProblem
	// OrgName and Settings are the session's organization's, for a page
	// in its colours; empty for LinkInvalid.
	OrgName  string
	Settings verigate.JourneySettings
}

func (e *LinkError) Error() string { return ErrBadLink.Error() + " (" + string(e.Problem) + ")" }

// Unwrap makes a LinkError answer as ErrBadLink wherever its reason is
// not shown.
func (e *LinkError) Unwrap() error { return ErrBadLink }

// OpenJourney is OpenLink for the hosted journey: a link that does not
// open fails with a *LinkError saying why.
func (s *Service) OpenJourney(ctx context.Context, token string, sessionID int64) (string, time.Time, *verigate.Session, error) {
	applicant, expires, sess, err := s.OpenLink(ctx, token, sessionID)
	if err != ErrBadLink {
		return applicant, expires, sess, err
	}
	problem, err := s.linkProblem(ctx, token, sessionID)
	if err != nil {
		return "", time.Time{}, nil, err
	}
	le := &LinkError{Problem: problem}
	if problem != LinkInvalid {
		// The token was this session's: its holder may know whose it is.
		if le.OrgName, le.Settings, _, err = s.journeyStore().JourneyFacts(ctx, sessionID); err != nil {
			return "", time.Time{}, nil, err
		}
	}
	return "", time.Time{}, nil, le
}

func (s *Service) linkProblem(ctx context.Context, token string, sessionID int64) (LinkProblem, error) {
	if token == "" || len(token) > 200 {
		return LinkInvalid, nil
	}
	hash := verigate.HashSecret(token)
	sess, err := s.store.GetSessionByLinkHash(ctx, hash)
	if verigate.ErrorCode(err) == verigate.ENOTFOUND {
		switch id, err := s.journeyStore().RetiredLink(ctx, hash); {
		case err == nil && id == sessionID:
			return LinkRotated, nil
		case err != nil && verigate.ErrorCode(err) != verigate.ENOTFOUND:
			return "", err
		}
		return LinkInvalid, nil
	} else if err != nil {
		return "", err
	}
	if sess.ID != sessionID {
		return LinkInvalid, nil
	}
	switch sess.Status {
	case verigate.SessionCancelled:
		return LinkCancelled, nil
	case verigate.SessionCompleted, verigate.SessionRejected, verigate.SessionFailed:
		return LinkFinished, nil
	case verigate.SessionExpired:
		return LinkExpired, nil
	}
	if !s.now().Before(sess.ExpiryDate) {
		return LinkExpired, nil
	}
	return LinkInvalid, nil // its organization is disabled
}
