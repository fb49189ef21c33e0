package verification

import (
	"context"
	"time"

	"github.com/verigate/verigate"
)

// ApplicantMaxAge bounds how long renewals keep one applicant token alive;
// after it the applicant opens the link again (which resumes).
const ApplicantMaxAge = 12 * time.Hour

// KeepApplicant is Applicant for the hosted journey, whose cookie slides:
// once half of ApplicantTokenTTL has passed, the token's expiry moves to
// a full TTL from now (one write per half TTL at most), up to
// ApplicantMaxAge after it was made. It returns the principal and, when
// it moved, the new expiry (zero otherwise). The token's value stays the
// same, so forms already on the applicant's screen still post.
func (s *Service) KeepApplicant(ctx context.Context, token string) (*verigate.Principal, time.Time, error) {
	p, expires, err := s.applicant(ctx, token)
	if err != nil {
		return nil, time.Time{}, err
	}
	now := s.now()
	if expires.Sub(now) > ApplicantTokenTTL/2 {
		return p, time.Time{}, nil
	}
	until := now.Add(ApplicantTokenTTL)
	moved, err := s.store.ExtendCSRFToken(ctx, verigate.HashSecret(token), until, until.Add(-ApplicantMaxAge))
	if err != nil || !moved {
		return p, time.Time{}, err
	}
	return p, until, nil
}
