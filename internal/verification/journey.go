package verification

import (
	"context"
	"encoding/json"
	"net/url"
	"time"

	"github.com/verigate/verigate"
)

// JourneyStore is what the hosted journey's use cases need of the store
// besides Store; internal/sqlstore implements both. It is an interface of
// its own so that the engine's Store does not grow for pages.
type JourneyStore interface {
	SetJourneySettings(ctx context.Context, orgID string, j verigate.JourneySettings, ev verigate.AuditEvent) error
	JourneyFacts(ctx context.Context, sessionID int64) (orgName string, j verigate.JourneySettings, consent *verigate.JourneyConsent, err error)
	RecordConsent(ctx context.Context, c verigate.JourneyConsent, ev verigate.AuditEvent) error
	RetiredLink(ctx context.Context, hash []byte) (int64, error)
	SetRedirectOrigins(ctx context.Context, orgID string, origins []string, ev verigate.AuditEvent) error
	OrgSettings(ctx context.Context, orgID string) (verigate.OrgSettings, error)
}

func (s *Service) journeyStore() JourneyStore { return s.store }

// SetJourneySettings sets the journey settings (logo, frame ancestors) of
// the organization key names.
func (s *Service) SetJourneySettings(ctx context.Context, orgKey string, j verigate.JourneySettings) error {
	if err := j.Validate(); err != nil {
		return err
	}
	org, err := s.organization(ctx, "organizations.update", orgKey)
	if err != nil {
		return err
	}
	ev := s.audit(ctx, "organization.journey_settings", "organization", org.ID, org.ID)
	ev.Details = map[string]any{"logoUrl": j.LogoURL, "frameAncestors": j.FrameAncestors}
	return s.journeyStore().SetJourneySettings(ctx, org.ID, j, ev)
}

// Settings returns the review policy, journey settings and redirect
// allow-list of the organization key names.
func (s *Service) Settings(ctx context.Context, orgKey string) (verigate.OrgSettings, error) {
	org, err := s.organization(ctx, "organizations.read", orgKey)
	if err != nil {
		return verigate.OrgSettings{}, err
	}
	return s.journeyStore().OrgSettings(ctx, org.ID)
}

// SetRedirectOrigins sets the redirect allow-list of the organization key
// names: the https origins a redirectUrl of its sessions (and of its
// institutions' sessions, unless they have a list of their own) may
// point to. An empty list allows any http or https URL.
func (s *Service) SetRedirectOrigins(ctx context.Context, orgKey string, origins []string) error {
	origins, err := verigate.ValidateRedirectOrigins(origins)
	if err != nil {
		return err
	}
	org, err := s.organization(ctx, "organizations.update", orgKey)
	if err != nil {
		return err
	}
	ev := s.audit(ctx, "organization.redirect_origins", "organization", org.ID, org.ID)
	ev.Details = map[string]any{"redirectOrigins": origins}
	return s.journeyStore().SetRedirectOrigins(ctx, org.ID, origins, ev)
}

// checkRedirect checks a session's redirectUrl against the allow-list
// that governs its organization: the nearest non-empty one up its chain
// (the organization itself, then its parents).
func (s *Service) checkRedirect(ctx context.Context, chain []string, redirectURL string) error {
	if redirectURL == "" {
		return nil
	}
	for _, id := range chain {
		set, err := s.journeyStore().OrgSettings(ctx, id)
		if err != nil {
			return err
		}
		if len(set.RedirectOrigins) > 0 {
			if !verigate.RedirectAllowed(set.RedirectOrigins, redirectURL) {
				return verigate.FieldError("redirectUrl", "must point to one of the organization's allowed redirect origins")
			}
			return nil
		}
	}
	return nil
}

// Journey is what the applicant's pages show of a session: only the
// applicant's part of it (never its results or review), its
// organization's name and journey settings, the consent, the sources on
// offer and the steps chosen.
type Journey struct {
	SessionID    int64
	Mode         verigate.Mode
	Status       verigate.SessionStatus
	ExpiresAt    time.Time
	Open         bool // the applicant may still work on it
	Instructions string
	FirstName    string
	OrgName      string
	Settings     verigate.JourneySettings
	Consent      *verigate.JourneyConsent
	// Sources are the sources on offer (those matching the search, when
	// one was given); Offered counts them all.
	Sources []*verigate.DataSource
	Offered int
	Steps   []JourneyStep
}

// JourneyStep is a chosen step with its source, and the live state of
// its connection while a connector step is in progress.
type JourneyStep struct {
	Step   *verigate.Step
	Source *verigate.DataSource
	Login  *StepLogin
}

// Journey returns session sessionID as its applicant's pages show it;
// search, when not empty, narrows the sources on offer.
func (s *Service) Journey(ctx context.Context, sessionID int64, search string) (*Journey, error) {
	if verigate.TooLong(search, 100) {
		return nil, verigate.FieldError("q", "must be at most 100 characters")
	}
	sess, err := s.session(ctx, "verifications.read", sessionID, sessionPart)
	if err != nil {
		return nil, err
	}
	return s.journey(ctx, sess, search)
}

func (s *Service) journey(ctx context.Context, sess *verigate.Session, text string) (*Journey, error) {
	name, settings, consent, err := s.journeyStore().JourneyFacts(ctx, sess.ID)
	if err != nil {
		return nil, err
	}
	offered, err := s.sessionSources(ctx, sess)
	if err != nil {
		return nil, err
	}
	steps, err := s.store.ListSteps(ctx, sess.ID)
	if err != nil {
		return nil, err
	}
	all, err := s.catalog(ctx)
	if err != nil {
		return nil, err
	}
	j := &Journey{SessionID: sess.ID, Mode: sess.Mode, Status: sess.Status, ExpiresAt: sess.ExpiryDate,
		Open: sessionOpen(sess, s.now()), Instructions: sess.Instructions, FirstName: sess.ApplicantFirstName,
		OrgName: name, Settings: settings, Consent: consent, Sources: offered, Offered: len(offered)}
	if text != "" {
		j.Sources = search(offered, text)
	}
	for _, st := range steps {
		js := JourneyStep{Step: st, Source: findSource(all, SourceRef{ID: st.DataSourceID})}
		if st.Type == verigate.SourceConnector && st.Status == verigate.StepInProgress {
			if js.Login, err = s.stepLogin(ctx, st); err != nil {
				return nil, err
			}
		}
		j.Steps = append(j.Steps, js)
	}
	return j, nil
}

// StepPage is what a step's page shows: the journey around it, the step
// with its source, the live state of its connection (connector steps),
// and how to request its proof (Reclaim steps, once initiated).
type StepPage struct {
	Journey *Journey
	JourneyStep
	// Fields are a connector's login fields, once the step is initiated.
	Fields []LoginField
	// ProofRequest is the Reclaim proof request an applicant's phone
	// opens (QR code, deep link), once the step is initiated; Sandbox says
	// a sandbox proof may stand in for it (test mode).
	ProofRequest string
	Sandbox      bool
}

// LoginField is a field of a connector's login form.
type LoginField struct {
	Name, Label, Type string
}

// StepPage returns step stepID as its page shows it.
func (s *Service) StepPage(ctx context.Context, stepID int64) (*StepPage, error) {
	st, sess, err := s.step(ctx, "verifications.read", stepID)
	if err != nil {
		return nil, err
	}
	j, err := s.journey(ctx, sess, "")
	if err != nil {
		return nil, err
	}
	p := &StepPage{Journey: j, JourneyStep: JourneyStep{Step: st}}
	for _, js := range j.Steps {
		if js.Step.ID == st.ID {
			p.JourneyStep = js
		}
	}
	if p.Source == nil {
		if p.Source, err = s.sourceByID(ctx, st.DataSourceID); err != nil {
			return nil, err
		}
	}
	if p.Login == nil {
		if p.Login, err = s.stepLogin(ctx, st); err != nil {
			return nil, err
		}
	}
	var meta struct {
		Fields []LoginField `json:"fields"`
	}
	json.Unmarshal(st.Metadata, &meta)
	p.Fields = meta.Fields
	if st.Type == verigate.SourceReclaim && st.Status != verigate.StepPending {
		p.ProofRequest = s.proofRequest(p.Source, st)
		p.Sandbox = sess.Mode == verigate.ModeTest
	}
	return p, nil
}

// proofRequest is the deep link of a step's Reclaim proof request: the
// applicant's app (DeeplinkURL) with what InitiateStep tells a partner's
// app — provider, app id, the nonce the proof's context must carry — and
// where the app submits the proof: the step's callback URL, which needs
// no cookie (callback.go).
func (s *Service) proofRequest(src *verigate.DataSource, st *verigate.Step) string {
	ctxJSON, _ := json.Marshal(map[string]string{"contextAddress": "0x0", "contextMessage": st.Nonce})
	q := url.Values{"providerId": {src.ProviderID}, "appId": {s.cfg.ReclaimAppID}, "context": {string(ctxJSON)},
		"callbackUrl": {s.CallbackURL(st)}}
	return s.cfg.DeeplinkURL + "?" + q.Encode()
}

// Connected reports whether any step verified or connected: a session
// can end (or await review) with none, and the applicant must not be told
// it went well.
func (j *Journey) Connected() bool {
	for _, js := range j.Steps {
		if js.Step.Status == verigate.StepVerified || js.Step.Status == verigate.StepCompleted {
			return true
		}
	}
	return false
}
