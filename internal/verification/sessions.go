package verification

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/verigate/verigate"
)

func findSource(sources []*verigate.DataSource, ref SourceRef) *verigate.DataSource {
	for _, src := range sources {
		if (ref.ID != 0 && src.ID == ref.ID) || (ref.ID == 0 && ref.Name != "" &&
			(strings.EqualFold(src.Name, ref.Name) || strings.EqualFold(src.SourceName, ref.Name))) {
			return src
		}
	}
	return nil
}

// Links returns a session's manual (browser) and deep links for token.
func (s *Service) Links(sess *verigate.Session, token string) (manual, deeplink string) {
	q := "?token=" + url.QueryEscape(token) + "&sessionId=" + sessionIDString(sess.ID)
	return s.cfg.PublicURL + "/partner/verification/verify" + q, s.cfg.DeeplinkURL + q
}

// Session returns a session and its steps, for its organization.
func (s *Service) Session(ctx context.Context, id int64) (*verigate.Session, []*verigate.Step, error) {
	sess, err := s.session(ctx, "verifications.read", id, wholeSession)
	if err != nil {
		return nil, nil, err
	}
	steps, err := s.store.ListSteps(ctx, id)
	return sess, steps, err
}

// RotateLink gives a session a new link token; the old one stops working.
func (s *Service) RotateLink(ctx context.Context, id int64) (*verigate.Session, string, error) {
	sess, err := s.session(ctx, "verifications.update", id, wholeSession)
	if err != nil {
		return nil, "", err
	}
	if sess.Status.Ended() {
		return nil, "", verigate.Errorf(verigate.ECONFLICT, "The session is %s; its link cannot be renewed.", sess.Status)
	}
	token := s.newLink(sess)
	sess.UpdatedAt = s.now()
	if err := s.store.ApplySessionChange(ctx, verigate.SessionChange{Session: sess, RevokeCSRF: true,
		Audit: []verigate.AuditEvent{s.audit(ctx, "verification.rotate_link", "verification", sessionIDString(sess.ID), sess.OrgID)}}); err != nil {
		return nil, "", err
	}
	return sess, token, nil
}

// ReviewerQuery is the reviewer list's query, unvalidated.
type ReviewerQuery struct {
	Status            verigate.SessionStatus
	SortBy, SortOrder string
	Limit, Offset     int
}

// Reviewer list bounds.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

func statusList() string {
	names := make([]string, len(verigate.SessionStatuses))
	for i, s := range verigate.SessionStatuses {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// ReviewerSessions lists the sessions in the caller's reach: its
// organizations', in its mode.
func (s *Service) ReviewerSessions(ctx context.Context, q ReviewerQuery) ([]*verigate.Session, int, error) {
	p := verigate.PrincipalFrom(ctx)
	if err := p.Authorize("verifications.read", verigate.Object{}, nil); err != nil {
		return nil, 0, err
	}
	switch {
	case q.Limit < 1 || q.Limit > MaxPageSize:
		return nil, 0, verigate.FieldError("limit", fmt.Sprintf("must be between 1 and %d", MaxPageSize))
	case q.Offset < 0:
		return nil, 0, verigate.FieldError("offset", "must not be negative")
	case q.Status != "" && !slices.Contains(verigate.SessionStatuses, q.Status):
		return nil, 0, verigate.FieldError("status", "must be one of "+statusList())
	case q.SortBy != "createdAt" && q.SortBy != "updatedAt" && q.SortBy != "status":
		return nil, 0, verigate.FieldError("sortBy", "must be createdAt, updatedAt or status")
	case q.SortOrder != "asc" && q.SortOrder != "desc":
		return nil, 0, verigate.FieldError("sortOrder", "must be asc or desc")
	}
	return s.store.ListSessions(ctx, verigate.SessionFilter{OrgIDs: p.Orgs, Status: q.Status, SortBy: q.SortBy,
		SortOrder: q.SortOrder, Limit: q.Limit, Offset: q.Offset, Mode: p.Mode})
}

// Review approves (COMPLETED) or rejects (REJECTED) a session in review.
func (s *Service) Review(ctx context.Context, id int64, approve bool, reason string) (*verigate.Session, error) {
	if !approve && strings.TrimSpace(reason) == "" {
		return nil, verigate.FieldError("reason", "is required to reject")
	}
	if err := optionalText("reason", reason, 1000); err != nil {
		return nil, err
	}
	sess, err := s.session(ctx, "verifications.review", id, wholeSession)
	if err != nil {
		return nil, err
	}
	to, action := verigate.SessionCompleted, "verification.approve"
	if !approve {
		to, action = verigate.SessionRejected, "verification.reject"
	}
	if err := moveSession(sess, to); err != nil {
		return nil, err
	}
	now := s.now()
	sess.ReviewerID, sess.ReviewReason, sess.UpdatedAt, sess.CompletedAt = reviewer(verigate.PrincipalFrom(ctx)), reason, now, &now
	ev := s.audit(ctx, action, "verification", sessionIDString(sess.ID), sess.OrgID)
	ev.Details = map[string]any{"reviewer": sess.ReviewerID, "reason": reason}
	if err := s.store.ApplySessionChange(ctx, verigate.SessionChange{Session: sess, Audit: []verigate.AuditEvent{ev},
		Events: []verigate.OutboxEvent{verigate.NewVerificationStatus(sess, now)}}); err != nil {
		return nil, err
	}
	return sess, nil
}

// reviewer names who reviewed: the operator when named, else the user the
// credential acts as, else the credential.
func reviewer(p *verigate.Principal) string {
	if p.RequestedBy != "" {
		return p.RequestedBy
	}
	if p.UserID != "" {
		return p.UserID
	}
	return p.ID
}

// ErrLoginFlowNotFound answers an SDK session for a source without one.
var ErrLoginFlowNotFound = verigate.Errorf(verigate.ENOTFOUND, "Login flow not found")

// CreateSDKSession starts a session for one source, driven by the
// partner's app through the Reclaim SDK: the session starts PROCESSING
// with one step for the source.
func (s *Service) CreateSDKSession(ctx context.Context, sourceName string) (*SDKSession, error) {
	p := verigate.PrincipalFrom(ctx)
	if err := p.Authorize("verifications.create", verigate.Object{}, nil); err != nil {
		return nil, err
	}
	if strings.TrimSpace(sourceName) == "" {
		return nil, verigate.FieldError("sourceName", "is required")
	}
	org, chain, number, err := s.sessionOrg(ctx, "verifications.create", "")
	if err != nil {
		return nil, err
	}
	home := org.ID
	avail, err := s.availableIn(ctx, chain, p.Mode)
	if err != nil {
		return nil, err
	}
	src := findSource(avail, SourceRef{Name: strings.TrimSpace(sourceName)})
	if src == nil {
		return nil, ErrSourceNotFound
	}
	if src.Kind != verigate.SourceReclaim || len(src.LoginFlow) == 0 {
		return nil, ErrLoginFlowNotFound
	}
	now := s.now()
	sess := &verigate.Session{OrgID: home, Mode: p.Mode, Status: verigate.SessionProcessing, ExpiryDate: now.Add(SDKSessionLife),
		AllowedSources: []int64{src.ID}, SelectedPlatform: &src.ID, VerificationTypeID: &src.VerificationTypeID,
		CreatedBy: p.ID, CreatedAt: now, UpdatedAt: now, TeamID: number,
		Metadata: json.RawMessage(`{"sdk":true}`), ApplicantData: json.RawMessage("{}")}
	step := s.newStep(src, now)
	token, err := s.insertSession(ctx, sess, []*verigate.Step{step}, map[string]any{"sdk": true, "sourceName": src.SourceName})
	if err != nil {
		return nil, err
	}
	return &SDKSession{Session: sess, Source: src, Step: step, LinkToken: token, AppID: s.cfg.ReclaimAppID}, nil
}

// SDKSession is a new SDK session: its one step, and the link token the
// app exchanges for an applicant token to submit the step's proof.
type SDKSession struct {
	Session   *verigate.Session
	Source    *verigate.DataSource
	Step      *verigate.Step
	LinkToken string
	AppID     string // the Reclaim application the applicant's app requests proofs with
}

func (s *Service) newStep(src *verigate.DataSource, now time.Time) *verigate.Step {
	nonce := make([]byte, 16)
	rand.Read(nonce)
	return &verigate.Step{DataSourceID: src.ID, Type: src.Kind, Status: verigate.StepPending,
		Nonce: "0x" + hex.EncodeToString(nonce), Metadata: json.RawMessage("{}"), Results: json.RawMessage("{}"),
		CreatedAt: now, UpdatedAt: now}
}

// expireDue moves open sessions past their expiry date, and their open
// steps, to EXPIRED, as the system. Safe on several replicas: a session
// another replica moved first is skipped.
func (s *Service) expireDue(ctx context.Context) (int, error) {
	n := 0
	var firstErr error
	var after int64
	// Batches of 200 in id order, until nothing is due (bounded): a session
	// that fails to expire is passed over, never in the way of the rest.
	for range 50 {
		ids, err := s.store.DueSessions(ctx, s.now(), after, 200)
		if err != nil {
			return n, err
		}
		for _, id := range ids {
			switch err := s.expire(ctx, id); verigate.ErrorCode(err) {
			case "":
				n++
			case verigate.ECONFLICT: // moved meanwhile (another replica, a reviewer)
			default:
				if firstErr == nil {
					firstErr = err // one bad session must not stop the others
				}
			}
		}
		if len(ids) < 200 {
			break
		}
		after = ids[len(ids)-1]
	}
	return n, firstErr
}

// expire moves one due session, and its open steps, to EXPIRED.
func (s *Service) expire(ctx context.Context, id int64) error {
	now := s.now()
	sess, err := s.store.GetSession(ctx, id)
	if err != nil {
		return err
	}
	steps, err := s.store.ListSteps(ctx, id)
	if err != nil {
		return err
	}
	if err := moveSession(sess, verigate.SessionExpired); err != nil {
		return err
	}
	sess.UpdatedAt, sess.CompletedAt = now, &now
	ch := verigate.SessionChange{Session: sess,
		Audit: []verigate.AuditEvent{s.audit(ctx, "verification.expire", "verification", sessionIDString(id), sess.OrgID)}}
	for _, st := range steps {
		if !st.Status.Ended() {
			if err := moveStep(&ch, st, verigate.StepExpired, now); err != nil {
				return err
			}
			st.UpdatedAt = now
		}
	}
	// The session's own event comes last, as when a step's end settles it.
	ch.Events = append(ch.Events, verigate.NewVerificationStatus(sess, now))
	return s.store.ApplySessionChange(ctx, ch)
}
