package verification

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/verigate/verigate"
)

// VerificationQuery is the verification list's query, unvalidated.
type VerificationQuery struct {
	// Status is a Konfir status (waiting_for_candidate, completed,
	// cancelled) or a core one (PENDING, …); "" is any.
	Status              string
	CreatedFrom         *time.Time
	CreatedTo           *time.Time
	ExternalReferenceID string
	// Search matches the external reference exactly, or a part of the
	// applicant's name or email (ignoring case; at most 100 characters).
	Search string
	Before int64 // the cursor: the last id of the previous page
	Limit  int
}

// Verifications lists one page of the verifications in the caller's
// reach (its organizations', in its mode), most recent first, without
// their timelines. next is the cursor of the page after, 0 when none.
func (s *Service) Verifications(ctx context.Context, q VerificationQuery) (page []*Verification, next int64, err error) {
	p := verigate.PrincipalFrom(ctx)
	if err := p.Authorize("verifications.read", verigate.Object{}, nil); err != nil {
		return nil, 0, err
	}
	f := verigate.VerificationFilter{OrgIDs: p.Orgs, Mode: p.Mode, ExternalReferenceID: q.ExternalReferenceID,
		Search: strings.TrimSpace(q.Search), Before: q.Before, Limit: q.Limit}
	switch {
	case q.Limit < 1 || q.Limit > MaxPageSize:
		return nil, 0, verigate.FieldError("limit", fmt.Sprintf("must be between 1 and %d", MaxPageSize))
	case q.Before < 0:
		return nil, 0, verigate.FieldError("cursor", "must be a cursor from the previous page")
	case q.CreatedFrom != nil && q.CreatedTo != nil && q.CreatedTo.Before(*q.CreatedFrom):
		return nil, 0, verigate.FieldError("createdTo", "must not be before createdFrom")
	}
	if err := optionalText("externalReferenceId", q.ExternalReferenceID, 200); err != nil {
		return nil, 0, err
	}
	if err := optionalText("search", q.Search, 100); err != nil {
		return nil, 0, err
	}
	if q.Status != "" {
		if k := verigate.KonfirStatus(q.Status); slices.Contains(verigate.KonfirStatuses, k) {
			f.Statuses = k.CoreStatuses()
		} else if c := verigate.SessionStatus(q.Status); slices.Contains(verigate.SessionStatuses, c) {
			f.Statuses = []verigate.SessionStatus{c}
		} else {
			return nil, 0, verigate.FieldError("status", "must be waiting_for_candidate, completed, cancelled or one of "+statusList())
		}
	}
	if q.CreatedFrom != nil {
		f.CreatedFrom = *q.CreatedFrom
	}
	if q.CreatedTo != nil {
		f.CreatedTo = *q.CreatedTo
	}
	list, err := s.store.ListVerifications(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	page = make([]*Verification, 0, len(list))
	for _, sess := range list {
		// The list shows no activities: a session's steps are one read
		// each, and a page of a hundred would be a hundred reads.
		page = append(page, &Verification{Session: sess, LinkToken: s.linkToken(sess)})
	}
	if len(list) == q.Limit {
		next = list[len(list)-1].ID
	}
	return page, next, nil
}

// CandidateLink returns a verification's current link token, for its
// organization: ECONFLICT when it has ended or its link was made before
// link tokens were kept (rotating the link gives one).
func (s *Service) CandidateLink(ctx context.Context, id int64) (*verigate.Session, string, error) {
	sess, err := s.session(ctx, "verifications.read", id, wholeSession)
	if err != nil {
		return nil, "", err
	}
	if sess.Status.Ended() {
		return nil, "", verigate.Errorf(verigate.ECONFLICT, "The verification is %s; its link no longer opens.", sess.Status)
	}
	token := s.linkToken(sess)
	if token == "" {
		return nil, "", verigate.Errorf(verigate.ECONFLICT, "This verification's link was not kept; rotate it to get a new one.")
	}
	return sess, token, nil
}

// RotateVerificationLink is RotateLink answering with the verification
// (as Verification does) and its new link: the old one stops working.
func (s *Service) RotateVerificationLink(ctx context.Context, id int64) (*Verification, error) {
	sess, token, err := s.RotateLink(ctx, id)
	if err != nil {
		return nil, err
	}
	steps, err := s.store.ListSteps(ctx, id)
	if err != nil {
		return nil, err
	}
	v, err := s.view(ctx, sess, steps, true)
	if err != nil {
		return nil, err
	}
	v.LinkToken = token
	return v, nil
}
