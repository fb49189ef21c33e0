package verification

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/verigate/verigate"
)

// Verification requests (Konfir's seed 004): a session created by a
// partner's server with its applicant, its own webhookUrl and redirect,
// read back with its activities and timeline. The same object as a
// /partner session: every use case here works on sessions made there too.

// Webhooks is what the engine needs of the delivery service: it checks a
// verification's own webhookUrl and makes the organization's verification
// secret the store writes with it, and signs the redirect back.
type Webhooks interface {
	// SessionEndpoint checks url as a verification's own webhook endpoint
	// in orgID and mode, without writing it; its field errors name "url".
	SessionEndpoint(ctx context.Context, orgID string, mode verigate.Mode, url string) (*verigate.WebhookEndpoint, error)
	// NewVerificationSecret is a fresh, sealed verification secret, kept
	// only if the organization has none yet.
	NewVerificationSecret(orgID string, mode verigate.Mode) *verigate.VerificationSecret
	// SignWithVerificationSecret is the hex HMAC-SHA256 of msg under the
	// organization's verification secret (made if missing).
	SignWithVerificationSecret(ctx context.Context, orgID string, mode verigate.Mode, msg []byte) (string, error)
}

// Verification request bounds.
const (
	DefaultExpiresInHours = 72
	MaxExpiresInHours     = 720
)

// VerificationInput is a new verification request: a session (whose
// ExpiryDate is ignored: ExpiresInHours sets it) with its own webhook URL.
type VerificationInput struct {
	Session        SessionInput
	ExpiresInHours *int   // default DefaultExpiresInHours
	WebhookURL     string // optional: the verification's own webhook endpoint
}

// Verification is a verification request as its creator reads it.
type Verification struct {
	Session    *verigate.Session
	Activities []Activity // in the order the applicant started them, then those not started
	WebhookURL string     // its own webhook endpoint's URL, "" if none
	// LinkToken is the current link token, "" when it cannot be shown:
	// the session has ended, or was made before link tokens were kept.
	LinkToken string
	Timeline  []TimelineEntry // most recent first
}

// Activity is one data source of a verification: one the applicant
// started (Step set) or one allowed and not started yet.
type Activity struct {
	Source *verigate.DataSource
	Step   *verigate.Step // nil when not started
	Status verigate.ActivityStatus
}

// newLink gives sess a new link token, kept sealed to its hash so the
// link can be shown again (a QR code, a GET), and returns it.
func (s *Service) newLink(sess *verigate.Session) string {
	token := verigate.NewSecret("")
	sess.LinkHash = verigate.HashSecret(token)
	sess.LinkSealed = s.links.Seal(linkSealID(sess.LinkHash), []byte(token))
	return token
}

// linkSealID binds a sealed link token to the hash of that very token: a
// sealed value copied to another row, or left behind by a rotation, does
// not open.
func linkSealID(hash []byte) string { return "link/" + hex.EncodeToString(hash) }

// linkToken returns sess's current link token, "" when it cannot be
// shown (ended, or not kept).
func (s *Service) linkToken(sess *verigate.Session) string {
	if sess.Status.Ended() || len(sess.LinkSealed) == 0 {
		return ""
	}
	plain, err := s.links.Open(linkSealID(sess.LinkHash), sess.LinkSealed)
	if err != nil {
		return ""
	}
	return string(plain)
}

var (
	phoneChars = strings.NewReplacer(" ", "", "-", "", "(", "", ")", "", ".", "")
	phoneShape = regexp.MustCompile(`^\+?[0-9]{6,15}$`)
)

// checkApplicantExtras checks and sets the fields a verification request
// adds to a session: phone, date of birth, external reference, state.
func checkApplicantExtras(sess *verigate.Session, in SessionInput, now time.Time) error {
	if err := optionalText("externalReferenceId", in.ExternalReferenceID, 200); err != nil {
		return err
	}
	if err := optionalText("state", in.State, 500); err != nil {
		return err
	}
	if in.ApplicantPhone != "" {
		p := phoneChars.Replace(strings.TrimSpace(in.ApplicantPhone))
		if !phoneShape.MatchString(p) {
			return verigate.FieldError("applicantPhone", "must be a phone number: 6 to 15 digits, optionally after a +")
		}
		sess.ApplicantPhone = p
	}
	if in.ApplicantDOB != "" {
		d, err := time.Parse(time.DateOnly, in.ApplicantDOB)
		switch {
		case err != nil:
			return verigate.FieldError("applicantDob", "must be a date, YYYY-MM-DD")
		case !d.Before(now.Truncate(24*time.Hour)) || d.Year() < 1900:
			return verigate.FieldError("applicantDob", "must be a past date after 1900")
		}
		sess.ApplicantDOB = d.Format(time.DateOnly)
	}
	return nil
}

// CreateVerification creates a verification request: a session expiring
// in ExpiresInHours, and its own webhook endpoint when WebhookURL is set
// (checked before anything is written, then written with the session in
// one transaction). It returns the verification and its link token.
// Errors name fields as SessionInput's JSON form would, and expiresInHours
// and webhookUrl.
func (s *Service) CreateVerification(ctx context.Context, in VerificationInput) (*Verification, string, error) {
	const perm = "verifications.create"
	p := verigate.PrincipalFrom(ctx)
	if err := p.Authorize(perm, verigate.Object{}, nil); err != nil {
		return nil, "", err
	}
	hours := DefaultExpiresInHours
	if in.ExpiresInHours != nil {
		hours = *in.ExpiresInHours
	}
	if hours < 1 || hours > MaxExpiresInHours {
		return nil, "", verigate.FieldError("expiresInHours", fmt.Sprintf("must be between 1 and %d", MaxExpiresInHours))
	}
	now := s.now()
	in.Session.ExpiryDate = now.Add(time.Duration(hours) * time.Hour)
	sess, err := newSession(in.Session, now)
	if err != nil {
		return nil, "", err
	}
	if in.WebhookURL != "" && verigate.TooLong(in.WebhookURL, 2000) {
		return nil, "", verigate.FieldError("webhookUrl", "must be at most 2000 characters")
	}
	org, chain, number, err := s.sessionOrg(ctx, perm, in.Session.InstitutionKey)
	if err != nil {
		return nil, "", err
	}
	if err := s.checkRedirect(ctx, chain, sess.RedirectURL); err != nil {
		return nil, "", err
	}
	sess.OrgID, sess.Mode, sess.CreatedBy, sess.TeamID = org.ID, p.Mode, p.ID, number
	if err := s.resolveSources(ctx, sess, chain, in.Session); err != nil {
		return nil, "", err
	}
	var ep *verigate.WebhookEndpoint
	var secret *verigate.VerificationSecret
	if in.WebhookURL != "" {
		if s.Webhooks == nil {
			return nil, "", verigate.FieldError("webhookUrl", "is not available on this server")
		}
		if ep, err = s.Webhooks.SessionEndpoint(ctx, org.ID, p.Mode, in.WebhookURL); err != nil {
			return nil, "", verigate.Rename(err, map[string]string{"url": "webhookUrl"})
		}
		secret = s.Webhooks.NewVerificationSecret(org.ID, p.Mode)
	}
	token := s.newLink(sess)
	ev := s.audit(ctx, "verification.create", "verification", "", sess.OrgID)
	ev.Details = map[string]any{"externalReferenceId": sess.ExternalReferenceID, "webhookUrl": in.WebhookURL != ""}
	if err := s.store.CreateVerification(ctx, sess, nil, []verigate.AuditEvent{ev},
		[]verigate.OutboxEvent{verigate.NewVerificationCreated(sess, sess.CreatedAt)}, ep, secret); err != nil {
		return nil, "", err
	}
	// Its timeline is its creation, as a read right after would say.
	v := &Verification{Session: sess, WebhookURL: in.WebhookURL, LinkToken: token,
		Timeline: []TimelineEntry{{Type: verigate.EventVerificationCreated, At: sess.CreatedAt, Status: sess.Status}}}
	if v.Activities, err = s.activities(ctx, sess, nil); err != nil {
		return nil, "", err
	}
	return v, token, nil
}

// Verification returns a verification for its organization: its
// activities with their results, its webhook URL, its current link token
// and its timeline.
func (s *Service) Verification(ctx context.Context, id int64) (*Verification, error) {
	sess, steps, err := s.Session(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.view(ctx, sess, steps, true)
}

func (s *Service) view(ctx context.Context, sess *verigate.Session, steps []*verigate.Step, timeline bool) (*Verification, error) {
	v := &Verification{Session: sess, LinkToken: s.linkToken(sess)}
	var err error
	if v.Activities, err = s.activities(ctx, sess, steps); err != nil {
		return nil, err
	}
	if v.WebhookURL, err = s.store.SessionWebhookURL(ctx, sess.ID); err != nil {
		return nil, err
	}
	if timeline {
		if v.Timeline, err = s.timeline(ctx, sess); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// activities lists a session's sources: those with a step, in the order
// started, then the allowed ones not started.
func (s *Service) activities(ctx context.Context, sess *verigate.Session, steps []*verigate.Step) ([]Activity, error) {
	all, err := s.catalog(ctx)
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]*verigate.DataSource, len(all))
	for _, src := range all {
		byID[src.ID] = src
	}
	out := []Activity{}
	started := map[int64]bool{}
	for _, st := range steps {
		src := byID[st.DataSourceID]
		if src == nil {
			src = &verigate.DataSource{ID: st.DataSourceID, Kind: st.Type}
		}
		started[st.DataSourceID] = true
		out = append(out, Activity{Source: src, Step: st, Status: st.Status.Activity()})
	}
	for _, id := range sess.AllowedSources {
		if src := byID[id]; src != nil && !started[id] {
			out = append(out, Activity{Source: src, Status: verigate.ActivityNotConnected})
		}
	}
	return out, nil
}

// ReturnURL is where the applicant goes when done: the session's
// redirectUrl with verification_id, status (Konfir's), state and sig
// appended (its own query kept), or "" when it has none. sig is the hex
// HMAC-SHA256 of verification_id + "." + status + "." + state under the
// organization's verification secret (see package redirectsig).
func (s *Service) ReturnURL(ctx context.Context, sessionID int64) (string, error) {
	sess, err := s.session(ctx, "verifications.read", sessionID, sessionPart)
	if err != nil || sess.RedirectURL == "" {
		return "", err
	}
	if s.Webhooks == nil {
		return "", fmt.Errorf("verification: no webhooks service to sign the redirect with")
	}
	u, err := url.Parse(sess.RedirectURL)
	if err != nil {
		return "", err // checked when the session was created
	}
	id := sessionIDString(sess.ID)
	status, _ := sess.Status.Konfir(sess.CancelReason)
	sig, err := s.Webhooks.SignWithVerificationSecret(ctx, sess.OrgID, sess.Mode, []byte(id+"."+string(status)+"."+sess.State))
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("verification_id", id)
	q.Set("status", string(status))
	q.Set("state", sess.State)
	q.Set("sig", sig)
	u.RawQuery = q.Encode()
	return u.String(), nil
}
