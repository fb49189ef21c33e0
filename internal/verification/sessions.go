package verification

import (
	"bytes"
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

// SourceRef names a source by id, or by name when the id is 0.
type SourceRef struct {
	ID   int64
	Name string
}

// SessionInput is a new session as the partner describes it.
type SessionInput struct {
	ExpiryDate         string
	Metadata           json.RawMessage
	ApplicantID        string
	ApplicantData      json.RawMessage
	Instructions       string
	ApplicantFirstName string
	ApplicantLastName  string
	ApplicantEmail     string
	AllowedSources     []SourceRef
	SelectedPlatform   *int64
	VerificationTypeID *int64
	RedirectURL        string
	// InstitutionKey puts the session under one of the key's institutions
	// (default: the key's own organization).
	InstitutionKey string
}

// ParseTime reads an ISO 8601 time: RFC 3339, or a date (midnight UTC).
func ParseTime(field, s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, verigate.FieldError(field, "must be an ISO 8601 date string such as 2025-12-31T23:59:59.000Z")
}

// jsonObject checks an optional JSON object field and returns it compacted.
func jsonObject(field string, raw json.RawMessage) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return json.RawMessage("{}"), nil
	}
	if raw[0] != '{' {
		return nil, verigate.FieldError(field, "must be an object")
	}
	if len(raw) > MaxJSONFieldSize {
		return nil, verigate.FieldError(field, fmt.Sprintf("must be at most %d bytes", MaxJSONFieldSize))
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, verigate.FieldError(field, "must be an object")
	}
	return buf.Bytes(), nil
}

func optionalText(field, s string, max int) error {
	if s == "" {
		return nil
	}
	return verigate.ValidateText(field, s, max)
}

// CreateSession creates a session for an applicant and returns it with
// its link token (shown once).
func (s *Service) CreateSession(ctx context.Context, in SessionInput) (*verigate.Session, string, error) {
	p, err := partner(ctx, "verifications.create")
	if err != nil {
		return nil, "", err
	}
	now := s.now()
	if in.ExpiryDate == "" {
		return nil, "", verigate.FieldError("params.expiryDate", "is required")
	}
	expiry, err := ParseTime("params.expiryDate", in.ExpiryDate)
	if err != nil {
		return nil, "", err
	}
	if !expiry.After(now) {
		return nil, "", verigate.FieldError("params.expiryDate", "must be in the future")
	}
	if expiry.Sub(now) > MaxSessionLife {
		return nil, "", verigate.FieldError("params.expiryDate", "must be within a year")
	}
	sess := &verigate.Session{Status: verigate.SessionPending, ExpiryDate: expiry.Truncate(time.Millisecond), Mode: p.Mode,
		ApplicantID: in.ApplicantID, Instructions: in.Instructions, ApplicantFirstName: in.ApplicantFirstName,
		ApplicantLastName: in.ApplicantLastName, RedirectURL: in.RedirectURL, CreatedBy: p.ID, CreatedAt: now, UpdatedAt: now,
		AllowedSources: []int64{}}
	if sess.Metadata, err = jsonObject("params.metadata", in.Metadata); err != nil {
		return nil, "", err
	}
	if sess.ApplicantData, err = jsonObject("params.applicantData", in.ApplicantData); err != nil {
		return nil, "", err
	}
	for _, f := range []struct {
		field, value string
		max          int
	}{{"params.applicantId", in.ApplicantID, 200}, {"params.applicantFirstName", in.ApplicantFirstName, 100},
		{"params.applicantLastName", in.ApplicantLastName, 100}} {
		if err := optionalText(f.field, f.value, f.max); err != nil {
			return nil, "", err
		}
	}
	if verigate.TooLong(in.Instructions, 2000) {
		return nil, "", verigate.FieldError("params.instructions", "must be at most 2000 characters")
	}
	if in.ApplicantEmail != "" {
		if sess.ApplicantEmail, err = verigate.NormalizeEmail(in.ApplicantEmail); err != nil {
			return nil, "", verigate.FieldError("params.applicantEmail", "must be a valid email address")
		}
	}
	if in.RedirectURL != "" {
		if u, err := url.Parse(in.RedirectURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || verigate.TooLong(in.RedirectURL, 2000) {
			return nil, "", verigate.FieldError("params.redirectUrl", "must be an http or https URL")
		}
	}
	// The organization: the key's home, or one of its institutions.
	org, err := s.sessionOrg(ctx, p, in.InstitutionKey)
	if err != nil {
		return nil, "", err
	}
	sess.OrgID = org.ID
	avail, err := s.available(ctx, org.ID, p.Mode)
	if err != nil {
		return nil, "", err
	}
	if len(in.AllowedSources) > 50 {
		return nil, "", verigate.FieldError("params.allowedSources", "at most 50 sources")
	}
	for i, ref := range in.AllowedSources {
		src := findSource(avail, ref)
		if src == nil {
			return nil, "", verigate.FieldError(fmt.Sprintf("params.allowedSources[%d]", i), "is not a source available to this organization")
		}
		if !slices.Contains(sess.AllowedSources, src.ID) {
			sess.AllowedSources = append(sess.AllowedSources, src.ID)
		}
	}
	if in.SelectedPlatform != nil {
		src := findSource(avail, SourceRef{ID: *in.SelectedPlatform})
		if src == nil || (len(sess.AllowedSources) > 0 && !slices.Contains(sess.AllowedSources, src.ID)) {
			return nil, "", verigate.FieldError("params.selectedPlatform", "is not one of the allowed sources")
		}
		sess.SelectedPlatform = &src.ID
	}
	if in.VerificationTypeID != nil {
		types, err := s.store.ListVerificationTypes(ctx)
		if err != nil {
			return nil, "", err
		}
		if !slices.ContainsFunc(types, func(t verigate.VerificationType) bool { return t.ID == *in.VerificationTypeID }) {
			return nil, "", verigate.FieldError("params.verificationTypeId", "is not a known verification type")
		}
		sess.VerificationTypeID = in.VerificationTypeID
	}
	if sess.VerificationTypeID == nil && len(sess.AllowedSources) > 0 {
		// The type of the allowed sources, when they share one.
		var t int64
		for _, id := range sess.AllowedSources {
			src := findSource(avail, SourceRef{ID: id})
			if t != 0 && src.VerificationTypeID != t {
				t = -1
				break
			}
			t = src.VerificationTypeID
		}
		if t > 0 {
			sess.VerificationTypeID = &t
		}
	}
	token := verigate.NewSecret("")
	sess.LinkHash = verigate.HashSecret(token)
	ev := s.audit(ctx, "verification.create", "verification", "", org.ID)
	if err := s.store.CreateSession(ctx, sess, nil, []verigate.AuditEvent{ev}, []verigate.OutboxEvent{verigate.NewVerificationCreated(sess, now)}); err != nil {
		return nil, "", err
	}
	_, sess.TeamID, _ = s.store.ReviewPolicy(ctx, org.ID)
	return sess, token, nil
}

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

// Session returns a session and its steps, for the partner.
func (s *Service) Session(ctx context.Context, id int64) (*verigate.Session, []*verigate.Step, error) {
	p, err := partner(ctx, "verifications.read")
	if err != nil {
		return nil, nil, err
	}
	sess, err := s.sessionFor(ctx, p, id)
	if err != nil {
		return nil, nil, err
	}
	steps, err := s.store.ListSteps(ctx, id)
	return sess, steps, err
}

// RotateLink gives a session a new link token; the old one stops working.
func (s *Service) RotateLink(ctx context.Context, id int64) (*verigate.Session, string, error) {
	p, err := partner(ctx, "verifications.update")
	if err != nil {
		return nil, "", err
	}
	sess, err := s.sessionFor(ctx, p, id)
	if err != nil {
		return nil, "", err
	}
	if sess.Status.Ended() {
		return nil, "", verigate.Errorf(verigate.ECONFLICT, "The session is %s; its link cannot be renewed.", sess.Status)
	}
	token := verigate.NewSecret("")
	sess.LinkHash, sess.UpdatedAt = verigate.HashSecret(token), s.now()
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

// ReviewerSessions lists the sessions in the key's reach.
func (s *Service) ReviewerSessions(ctx context.Context, q ReviewerQuery) ([]*verigate.Session, int, error) {
	p, err := partner(ctx, "verifications.read")
	if err != nil {
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
	p, err := partner(ctx, "verifications.review")
	if err != nil {
		return nil, err
	}
	if !approve && strings.TrimSpace(reason) == "" {
		return nil, verigate.FieldError("reason", "is required to reject")
	}
	if err := optionalText("reason", reason, 1000); err != nil {
		return nil, err
	}
	sess, err := s.sessionFor(ctx, p, id)
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
	sess.ReviewerID, sess.ReviewReason, sess.UpdatedAt, sess.CompletedAt = reviewer(p), reason, now, &now
	ev := s.audit(ctx, action, "verification", sessionIDString(sess.ID), sess.OrgID)
	ev.Details = map[string]any{"reviewer": sess.ReviewerID, "reason": reason}
	if err := s.store.ApplySessionChange(ctx, verigate.SessionChange{Session: sess, Audit: []verigate.AuditEvent{ev},
		Events: []verigate.OutboxEvent{verigate.NewVerificationStatus(sess, now)}}); err != nil {
		return nil, err
	}
	return sess, nil
}

// reviewer names who reviewed: the operator when named, else the user the
// key acts as.
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
	p, err := partner(ctx, "verifications.create")
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(sourceName) == "" {
		return nil, verigate.FieldError("sourceName", "is required")
	}
	org, err := s.sessionOrg(ctx, p, "")
	if err != nil {
		return nil, err
	}
	home := org.ID
	avail, err := s.available(ctx, home, p.Mode)
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
	token := verigate.NewSecret("")
	sess := &verigate.Session{OrgID: home, Mode: p.Mode, Status: verigate.SessionProcessing, ExpiryDate: now.Add(SDKSessionLife),
		AllowedSources: []int64{src.ID}, SelectedPlatform: &src.ID, VerificationTypeID: &src.VerificationTypeID,
		LinkHash: verigate.HashSecret(token), CreatedBy: p.ID, CreatedAt: now, UpdatedAt: now,
		Metadata: json.RawMessage(`{"sdk":true}`), ApplicantData: json.RawMessage("{}")}
	step := s.newStep(src, now)
	ev := s.audit(ctx, "verification.create", "verification", "", home)
	ev.Details = map[string]any{"sdk": true, "sourceName": src.SourceName}
	if err := s.store.CreateSession(ctx, sess, []*verigate.Step{step}, []verigate.AuditEvent{ev},
		[]verigate.OutboxEvent{verigate.NewVerificationCreated(sess, now)}); err != nil {
		return nil, err
	}
	return &SDKSession{Session: sess, Source: src, Step: step, LinkToken: token}, nil
}

// SDKSession is a new SDK session: its one step, and the link token the
// app exchanges for a CSRF token to submit the step's proof.
type SDKSession struct {
	Session   *verigate.Session
	Source    *verigate.DataSource
	Step      *verigate.Step
	LinkToken string
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
		Audit:  []verigate.AuditEvent{s.audit(ctx, "verification.expire", "verification", sessionIDString(id), sess.OrgID)},
		Events: []verigate.OutboxEvent{verigate.NewVerificationStatus(sess, now)}}
	for _, st := range steps {
		if !st.Status.Ended() {
			u, err := moveStep(st, verigate.StepExpired)
			if err != nil {
				return err
			}
			st.UpdatedAt = now
			ch.Steps = append(ch.Steps, u)
		}
	}
	return s.store.ApplySessionChange(ctx, ch)
}
