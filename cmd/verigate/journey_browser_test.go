package main

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/verigate/verigate/internal/web/webtest"
	"github.com/verigate/verigate/redirectsig"
)

// TestBrowserJourney walks the applicant's hosted journey in headless
// chromium on a 375 px phone, against the real binary: a partner creates
// verifications on /v1, the applicant opens the candidate URL, and the
// partner gets the signed redirect back, the signed webhook and the
// results. Every journey page is screenshot (tmp/screenshots/
// TestBrowserJourney/…), passes axe-core's WCAG 2.1 A/AA rules without a
// serious or critical violation, does not scroll sideways and reports no
// console error, exception or CSP violation.
func TestBrowserJourney(t *testing.T) {
	ctx := webtest.New(t) // first: skips before the server starts when there is no chromium
	s := startJourneyServer(t)
	webtest.Phone(t, ctx)

	// (1) A bank that asks for a one-time code.
	t.Run("bank", func(t *testing.T) {
		v := s.create(t, "st-bank", "Sandbox Bank", "Sandbox Reclaim")
		id, candidate := v.Data.ID, *v.Meta.CandidateURL
		bank := v.sourceID(t, "Sandbox Bank")
		sess := "/journey/sessions/" + id

		webtest.Navigate(t, ctx, candidate)
		// The link token leaves the address bar.
		if u := s.page(t, ctx, sess+"/consent", "Verify your details for "+partnerName, "consent"); strings.Contains(u, "token") {
			t.Fatalf("the token is still in the address bar: %s", u)
		}
		onDesktop(t, ctx, "consent")
		webtest.Click(t, ctx, `form[action$="/consent"] button`)

		s.page(t, ctx, sess+"/sources", "Choose an account", "sources")
		webtest.Type(t, ctx, "#q", "bank")
		webtest.Click(t, ctx, "form.search button")
		webtest.WaitURL(t, ctx, s.base+sess+"/sources?q=bank")
		s.page(t, ctx, sess+"/sources?q=bank", "Choose an account", "sources-search")
		if list := webtest.Text(t, ctx, "fieldset"); !strings.Contains(list, "Sandbox Bank") || strings.Contains(list, "Sandbox Reclaim") {
			t.Fatalf("searching for bank lists %q", list)
		}
		webtest.Click(t, ctx, "#src-"+strconv.FormatInt(bank, 10))
		webtest.Click(t, ctx, `form[method="post"][action$="/sources"] button[type="submit"]`)

		s.page(t, ctx, "/journey/steps/", "Connect Sandbox Bank", "start")
		webtest.Click(t, ctx, `form[action$="/initiate"] button`)
		s.page(t, ctx, "/journey/steps/", "Sign in to Sandbox Bank", "credentials")
		webtest.Type(t, ctx, "#f-username", "otp")
		webtest.Type(t, ctx, "#f-password", "pass")
		webtest.Click(t, ctx, `form[action$="/connect"] button`)

		// The progress page moves on by itself once the bank asks for the code.
		webtest.WaitVisible(t, ctx, "input#code")
		s.page(t, ctx, "/journey/steps/", "Enter your code", "code")
		if help := webtest.Text(t, ctx, "#code-help"); help != "3 attempts left." {
			t.Errorf("the code's help says %q", help)
		}
		webtest.Type(t, ctx, "#code", "123456")
		webtest.Click(t, ctx, `form[action$="/code"] button`)

		s.page(t, ctx, sess+"/done", "You're verified", "done")
		onDesktop(t, ctx, "done")
		if st := webtest.Text(t, ctx, ".status-list"); !strings.Contains(st, "Connected") {
			t.Errorf("the done page lists %q", st)
		}
		webtest.Click(t, ctx, "a.button.primary")
		webtest.WaitURL(t, ctx, s.redirects.srv.URL+"/verified?")
		q := s.redirects.wait(t)
		if q.Get("verification_id") != id || q.Get("status") != "completed" || q.Get("state") != "st-bank" || q.Get("from") != "verigate" {
			t.Fatalf("redirected with %v", q)
		}
		if err := redirectsig.Verify(q, s.secret); err != nil {
			t.Fatalf("the redirect's sig does not verify with the verification secret: %v (%v)", err, q)
		}

		s.hooks.waitEvent(t, "verification.completed", id)
		got := s.get(t, id)
		a := activity(t, got, "Sandbox Bank")
		if got.Data.Status != "completed" || a.Status != "Connected" || !strings.Contains(string(a.Results), "monthlyAverage") {
			t.Fatalf("GET after the journey: %s, %s %s", got.Data.Status, a.Status, a.Results)
		}

		// The link again, now that it is done.
		if code := webtest.Navigate(t, ctx, candidate); code != 401 {
			t.Errorf("a finished link answered %d", code)
		}
		s.page(t, ctx, "/partner/verification/verify", "You have already finished", "link-finished")
	})

	// (2) A sandbox Reclaim source: the proof request, then the sandbox
	// provider page shares a sandbox-signed proof.
	t.Run("reclaim", func(t *testing.T) {
		v := s.create(t, "st-reclaim", "Sandbox Reclaim")
		id := v.Data.ID
		sess := "/journey/sessions/" + id
		webtest.Navigate(t, ctx, *v.Meta.CandidateURL)
		s.page(t, ctx, sess+"/consent", "Verify your details", "consent")
		webtest.Click(t, ctx, `form[action$="/consent"] button`)
		s.page(t, ctx, sess+"/sources", "Choose an account", "sources")
		webtest.Click(t, ctx, "#src-"+strconv.FormatInt(v.sourceID(t, "Sandbox Reclaim"), 10))
		webtest.Click(t, ctx, `form[method="post"][action$="/sources"] button[type="submit"]`)
		s.page(t, ctx, "/journey/steps/", "Connect Sandbox Reclaim", "start")
		webtest.Click(t, ctx, `form[action$="/initiate"] button`)
		s.page(t, ctx, "/journey/steps/", "Share from Sandbox Reclaim", "reclaim-qr")
		webtest.WaitVisible(t, ctx, ".qr-box svg")
		webtest.Click(t, ctx, `a[href$="/sandbox"]`)
		s.page(t, ctx, "/journey/steps/", "Sandbox provider", "sandbox-provider")
		// The proof, shown, wraps inside the page.
		webtest.Click(t, ctx, "details summary")
		webtest.WaitVisible(t, ctx, "pre.proof")
		checkPage(t, ctx, "sandbox-proof-shown")
		webtest.Click(t, ctx, `form[action$="/proof"] button`)
		s.page(t, ctx, sess+"/done", "You're verified", "done")
		webtest.Click(t, ctx, "a.button.primary")
		q := s.redirects.wait(t)
		if err := redirectsig.Verify(q, s.secret); err != nil || q.Get("verification_id") != id || q.Get("state") != "st-reclaim" {
			t.Fatalf("redirected with %v: %v", q, err)
		}
		s.hooks.waitEvent(t, "verification.completed", id)
		got := s.get(t, id)
		if a := activity(t, got, "Sandbox Reclaim"); got.Data.Status != "completed" || a.Status != "Verified" || len(a.Results) < 3 {
			t.Fatalf("GET after the journey: %s, %s %s", got.Data.Status, a.Status, a.Results)
		}
	})

	// (3) Links that do not open say which and what to do.
	t.Run("links", func(t *testing.T) {
		// Expired: a /partner session that ends in two seconds.
		var created struct {
			Data struct {
				VerificationLink struct{ ManualVerificationLink string }
			}
		}
		expires := time.Now().Add(2 * time.Second)
		s.api(t, "POST", "/partner/session", map[string]any{"params": map[string]any{
			"expiryDate": expires.UTC().Format(time.RFC3339Nano)}}, 201, &created)
		expiring := created.Data.VerificationLink.ManualVerificationLink
		if !strings.HasPrefix(expiring, s.base) {
			t.Fatalf("session link %q", expiring)
		}

		// Rotated: the old link after POST …/link.
		v := s.create(t, "st-rotate", "Sandbox Bank")
		var rotated verificationJSON
		s.api(t, "POST", "/v1/verifications/"+v.Data.ID+"/link", nil, 200, &rotated)
		if code := webtest.Navigate(t, ctx, *v.Meta.CandidateURL); code != 401 {
			t.Errorf("a rotated link answered %d", code)
		}
		s.page(t, ctx, "/partner/verification/verify", "This link has been replaced", "link-rotated")
		// The new link opens.
		webtest.Navigate(t, ctx, *rotated.Meta.CandidateURL)
		s.page(t, ctx, "/journey/sessions/"+v.Data.ID+"/consent", "Verify your details", "consent-new-link")

		// Cancelled.
		c := s.create(t, "st-cancel", "Sandbox Bank")
		s.api(t, "POST", "/v1/verifications/"+c.Data.ID+"/cancel", map[string]any{"reason": "duplicate"}, 200, nil)
		webtest.Navigate(t, ctx, *c.Meta.CandidateURL)
		s.page(t, ctx, "/partner/verification/verify", "This verification was cancelled", "link-cancelled")

		// Invalid: a token cut short.
		u, _ := url.Parse(*c.Meta.CandidateURL)
		q := u.Query()
		q.Set("token", q.Get("token")[:10])
		u.RawQuery = q.Encode()
		webtest.Navigate(t, ctx, u.String())
		s.page(t, ctx, "/partner/verification/verify", "This link is not valid", "link-invalid")

		time.Sleep(time.Until(expires.Add(50 * time.Millisecond)))
		webtest.Navigate(t, ctx, expiring)
		s.page(t, ctx, "/partner/verification/verify", "This link has expired", "link-expired")
	})

	// (4) Leaving in the middle and opening the link again resumes at the
	// same step; the progress page moves on by itself (live updates).
	t.Run("resume", func(t *testing.T) {
		v := s.create(t, "st-resume", "Sandbox Bank")
		candidate := *v.Meta.CandidateURL
		sess := "/journey/sessions/" + v.Data.ID
		webtest.Navigate(t, ctx, candidate)
		s.page(t, ctx, sess+"/consent", "Verify your details", "consent")
		webtest.Click(t, ctx, `form[action$="/consent"] button`)
		s.page(t, ctx, sess+"/sources", "Choose an account", "sources")
		webtest.Click(t, ctx, "#src-"+strconv.FormatInt(v.sourceID(t, "Sandbox Bank"), 10))
		webtest.Click(t, ctx, `form[method="post"][action$="/sources"] button[type="submit"]`)
		start := s.page(t, ctx, "/journey/steps/", "Connect Sandbox Bank", "start")

		// The link opened again lands on the same step.
		webtest.Navigate(t, ctx, candidate)
		if u := s.page(t, ctx, "/journey/steps/", "Connect Sandbox Bank", "start-reopened"); u != start {
			t.Fatalf("reopening the link landed on %s, want %s", u, start)
		}
		webtest.Click(t, ctx, `form[action$="/initiate"] button`)
		s.page(t, ctx, "/journey/steps/", "Sign in to Sandbox Bank", "credentials")
		// A reload keeps the step too.
		if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
			t.Fatal(err)
		}
		s.page(t, ctx, "/journey/steps/", "Sign in to Sandbox Bank", "credentials-reloaded")

		// "slow" connects after about 3 s: the progress page is held
		// still while it is checked, then its live update moves it on.
		release := holdLiveUpdates(t, ctx)
		webtest.Type(t, ctx, "#f-username", "slow")
		webtest.Type(t, ctx, "#f-password", "pass")
		webtest.Click(t, ctx, `form[action$="/connect"] button`)
		s.page(t, ctx, sess+"/progress", "Checking your details", "progress")
		webtest.Navigate(t, ctx, candidate)
		s.page(t, ctx, sess+"/progress", "Checking your details", "progress-reopened")
		release()
		s.page(t, ctx, sess+"/done", "You're verified", "done")
		s.hooks.waitEvent(t, "verification.completed", v.Data.ID)
	})
}

func (s *journeyServer) get(t *testing.T, id string) verificationJSON {
	t.Helper()
	var v verificationJSON
	s.api(t, "GET", "/v1/verifications/"+id, nil, 200, &v)
	return v
}

func activity(t *testing.T, v verificationJSON, name string) (a struct {
	ID           int64
	Name, Status string
	Results      json.RawMessage
}) {
	t.Helper()
	for _, a := range v.Data.Activities {
		if a.Name == name {
			return a
		}
	}
	t.Fatalf("no activity %s: %+v", name, v.Data.Activities)
	return
}
