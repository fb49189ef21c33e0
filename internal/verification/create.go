package verification

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/verigate/verigate"
)

// SourceRef names a source by id, or by name when the id is 0.
type SourceRef struct {
	ID   int64
	Name string
}

// SessionInput is a new session as its creator describes it, in typed
// values: each surface parses its own request into it.
type SessionInput struct {
	ExpiryDate         time.Time // required
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
	// ExternalReferenceID is the creator's own reference; State is
	// echoed back on the redirect to RedirectURL.
	ExternalReferenceID string
	State               string
	ApplicantPhone      string
	ApplicantDOB        string // YYYY-MM-DD
	// InstitutionKey puts the session under one of the credential's
	// institutions (default: its home organization).
	InstitutionKey string
}

// CreateSession creates a session for an applicant and returns it with
// its link token (shown once). Errors name the input's fields as
// SessionInput's JSON form would (expiryDate, allowedSources[2]).
func (s *Service) CreateSession(ctx context.Context, in SessionInput) (*verigate.Session, string, error) {
	const perm = "verifications.create"
	p := verigate.PrincipalFrom(ctx)
	if err := p.Authorize(perm, verigate.Object{}, nil); err != nil {
		return nil, "", err
	}
	now := s.now()
	sess, err := newSession(in, now)
	if err != nil {
		return nil, "", err
	}
	org, chain, number, err := s.sessionOrg(ctx, perm, in.InstitutionKey)
	if err != nil {
		return nil, "", err
	}
	if err := s.checkRedirect(ctx, chain, sess.RedirectURL); err != nil {
		return nil, "", err
	}
	sess.OrgID, sess.Mode, sess.CreatedBy, sess.TeamID = org.ID, p.Mode, p.ID, number
	if err := s.resolveSources(ctx, sess, chain, in); err != nil {
		return nil, "", err
	}
	token, err := s.insertSession(ctx, sess, nil, nil)
	if err != nil {
		return nil, "", err
	}
	return sess, token, nil
}

// newSession checks in against the rules a session's own fields follow
// and returns the PENDING session it describes, before anything is looked
// up: its organization, mode, creator and sources are the caller's to
// fill in. It reads nothing but its arguments.
func newSession(in SessionInput, now time.Time) (*verigate.Session, error) {
	switch {
	case in.ExpiryDate.IsZero():
		return nil, verigate.FieldError("expiryDate", "is required")
	case !in.ExpiryDate.After(now):
		return nil, verigate.FieldError("expiryDate", "must be in the future")
	case in.ExpiryDate.Sub(now) > MaxSessionLife:
		return nil, verigate.FieldError("expiryDate", "must be within a year")
	}
	sess := &verigate.Session{Status: verigate.SessionPending, ExpiryDate: in.ExpiryDate.UTC().Truncate(time.Millisecond),
		ApplicantID: in.ApplicantID, Instructions: in.Instructions, ApplicantFirstName: in.ApplicantFirstName,
		ApplicantLastName: in.ApplicantLastName, RedirectURL: in.RedirectURL, CreatedAt: now, UpdatedAt: now,
		AllowedSources: []int64{}, ExternalReferenceID: in.ExternalReferenceID, State: in.State}
	var err error
	if sess.Metadata, err = jsonObject("metadata", in.Metadata); err != nil {
		return nil, err
	}
	if sess.ApplicantData, err = jsonObject("applicantData", in.ApplicantData); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		field, value string
		max          int
	}{{"applicantId", in.ApplicantID, 200}, {"applicantFirstName", in.ApplicantFirstName, 100},
		{"applicantLastName", in.ApplicantLastName, 100}} {
		if err := optionalText(f.field, f.value, f.max); err != nil {
			return nil, err
		}
	}
	if err := checkApplicantExtras(sess, in, now); err != nil {
		return nil, err
	}
	if verigate.TooLong(in.Instructions, 2000) {
		return nil, verigate.FieldError("instructions", "must be at most 2000 characters")
	}
	if in.ApplicantEmail != "" {
		if sess.ApplicantEmail, err = verigate.NormalizeEmail(in.ApplicantEmail); err != nil {
			return nil, verigate.FieldError("applicantEmail", "must be a valid email address")
		}
	}
	if in.RedirectURL != "" {
		if u, err := url.Parse(in.RedirectURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || verigate.TooLong(in.RedirectURL, 2000) {
			return nil, verigate.FieldError("redirectUrl", "must be an http or https URL")
		}
	}
	if len(in.AllowedSources) > 50 {
		return nil, verigate.FieldError("allowedSources", "at most 50 sources")
	}
	return sess, nil
}

// resolveSources looks up the sources and type in names among those
// available to the session's organization (whose chain is chain) in its
// mode, and fills in the
// session's allowed sources, selected platform and verification type
// (by default the type its allowed sources share).
func (s *Service) resolveSources(ctx context.Context, sess *verigate.Session, chain []string, in SessionInput) error {
	avail, err := s.availableIn(ctx, chain, sess.Mode)
	if err != nil {
		return err
	}
	for i, ref := range in.AllowedSources {
		src := findSource(avail, ref)
		if src == nil {
			return verigate.FieldError(fmt.Sprintf("allowedSources[%d]", i), "is not a source available to this organization")
		}
		if !slices.Contains(sess.AllowedSources, src.ID) {
			sess.AllowedSources = append(sess.AllowedSources, src.ID)
		}
	}
	if in.SelectedPlatform != nil {
		src := findSource(avail, SourceRef{ID: *in.SelectedPlatform})
		if src == nil || (len(sess.AllowedSources) > 0 && !slices.Contains(sess.AllowedSources, src.ID)) {
			return verigate.FieldError("selectedPlatform", "is not one of the allowed sources")
		}
		sess.SelectedPlatform = &src.ID
	}
	if in.VerificationTypeID != nil {
		types, err := s.store.ListVerificationTypes(ctx)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(types, func(t verigate.VerificationType) bool { return t.ID == *in.VerificationTypeID }) {
			return verigate.FieldError("verificationTypeId", "is not a known verification type")
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
	return nil
}

// insertSession gives sess a new link token and stores it with its
// steps, its audit event (with details) and its created event, in one
// write. It returns the link token.
func (s *Service) insertSession(ctx context.Context, sess *verigate.Session, steps []*verigate.Step, details map[string]any) (string, error) {
	token := s.newLink(sess)
	ev := s.audit(ctx, "verification.create", "verification", "", sess.OrgID)
	ev.Details = details
	if err := s.store.CreateSession(ctx, sess, steps, []verigate.AuditEvent{ev},
		[]verigate.OutboxEvent{verigate.NewVerificationCreated(sess, sess.CreatedAt)}); err != nil {
		return "", err
	}
	return token, nil
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
