package journey_test

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/app/apptest"
	"github.com/verigate/verigate/internal/web/journey"
	"github.com/verigate/verigate/redirectsig"
)

func sourceID(t *testing.T, e *apptest.Env, name string) int64 {
	t.Helper()
	srcs, err := e.App.Verify.Sources(e.System)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range srcs {
		if s.SourceName == name {
			return s.ID
		}
	}
	t.Fatalf("no source %q", name)
	return 0
}

// TestConnectorJourney: link → consent → sources (with a search) →
// Sandbox Bank's login form → its code → progress → done, by plain form
// posts, on every engine.
func TestConnectorJourney(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := newFixture(t, e)
		s := f.session(t, map[string]any{"applicantFirstName": "Ada", "instructions": "Use your salary account.",
			"redirectUrl": "https://partner.example/back?x=1"})
		b, p := f.open(t, s)
		wantPage(t, p, 200, "Verify your details for Institution acme-cu", "Hi Ada", "Use your salary account.", "What is shared", "With whom", "For how long", `aria-current="step"`)
		if !strings.Contains(b.last.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("default frame-ancestors: %s", b.last.Header.Get("Content-Security-Policy"))
		}
		p = b.post(fmt.Sprintf("/journey/sessions/%d/consent", s.ID), nil)
		wantPage(t, p, 200, "Choose an account to connect", `<label for="q">`, "Sandbox Bank")
		// The search works without JavaScript: a GET form.
		p = b.get(fmt.Sprintf("/journey/sessions/%d/sources?q=%s", s.ID, url.QueryEscape("sandbox bank")))
		wantPage(t, p, 200, "Sandbox Bank", `Results for “sandbox bank”`)
		if strings.Contains(p.Body, "Sandbox Reclaim") {
			t.Errorf("the search did not narrow the list")
		}
		bank := sourceID(t, e, "Sandbox Bank")
		p = b.post(fmt.Sprintf("/journey/sessions/%d/sources", s.ID), url.Values{"source": {fmt.Sprint(bank)}})
		wantPage(t, p, 200, "Connect Sandbox Bank", "Continue to Sandbox Bank")
		step := stepID(t, p.Body)
		p = b.post(fmt.Sprintf("/journey/steps/%d/initiate", step), nil)
		wantPage(t, p, 200, "Sign in to Sandbox Bank", `autocomplete="current-password"`, `type="password"`)
		p = b.post(fmt.Sprintf("/journey/steps/%d/connect", step), url.Values{"username": {"otp"}, "password": {"pass"}})
		wantPage(t, p, 200, "Checking your details", `http-equiv="refresh"`, "data-events=", "Connecting…")
		e.App.Worker.Work(context.Background())
		p = b.get(fmt.Sprintf("/journey/sessions/%d/progress", s.ID))
		wantPage(t, p, 200, "Enter your code", `autocomplete="one-time-code"`, `inputmode="numeric"`, `maxlength="6"`, "3 attempts left")
		// A wrong code: the page waits for its outcome, then asks again.
		p = b.post(fmt.Sprintf("/journey/steps/%d/code", step), url.Values{"code": {"000000"}, "sent": {sentField(t, p.Body)}})
		wantPage(t, p, 200, "Checking your details")
		waiting := liveState(t, p.Body)
		e.App.Worker.Work(context.Background())
		// The refusal is news to the waiting page: its live stream says a
		// state other than the one the page shows, and the page reloads.
		life := journey.StreamLife
		journey.StreamLife = 1500 * time.Millisecond // the session is open: end the stream soon
		ev := b.do("GET", fmt.Sprintf("/journey/sessions/%d/events", s.ID), nil)
		journey.StreamLife = life
		if !strings.Contains(ev.Body, "event: state\ndata: ") ||
			strings.Contains(ev.Body, "data: "+waiting+"\n") {
			t.Fatalf("after a refused code the stream still says %q: %s", waiting, ev.Body)
		}
		p = b.get(fmt.Sprintf("/journey/sessions/%d", s.ID))
		wantPage(t, p, 200, "Enter your code", "That code did not work", "2 attempts left")
		p = b.post(fmt.Sprintf("/journey/steps/%d/code", step), url.Values{"code": {"123456"}, "sent": {sentField(t, p.Body)}})
		wantPage(t, p, 200, "Checking your details")
		e.App.Worker.Work(context.Background())
		p = b.get(fmt.Sprintf("/journey/sessions/%d/progress", s.ID))
		wantPage(t, p, 200, "You're verified", "Connected", `href="https://partner.example/back?sig=`, "Return to Institution acme-cu")
		// The way back is signed with the organization's verification secret.
		org, err := e.App.DB.GetOrganizationByKey(e.System, "acme-cu")
		if err != nil {
			t.Fatal(err)
		}
		testMode := *verigate.System
		testMode.Mode = verigate.ModeTest
		_, secret, err := e.App.Webhooks.RotateVerificationSecret(verigate.WithPrincipal(context.Background(), &testMode), org.ID)
		if err != nil {
			t.Fatal(err)
		}
		back := returnLink(t, b.get(fmt.Sprintf("/journey/sessions/%d/done", s.ID)).Body)
		if q := back.Query(); q.Get("x") != "1" || q.Get("status") != "completed" || redirectsig.Verify(q, secret) != nil {
			t.Fatalf("return link %s does not verify: %v", back, redirectsig.Verify(q, secret))
		}
		var st struct{ Data struct{ Status string } }
		e.Do("GET", fmt.Sprintf("/partner/session/%d", s.ID), nil, "x-api-key", f.key).Decode(t, &st)
		if st.Data.Status != "COMPLETED" {
			t.Fatalf("session %s", st.Data.Status)
		}
		// The live stream says the state, and ends with the session.
		ev = b.do("GET", fmt.Sprintf("/journey/sessions/%d/events", s.ID), nil)
		if ev.Status != 200 || ev.Header.Get("Content-Type") != "text/event-stream" || !strings.Contains(ev.Body, "event: state\ndata: COMPLETED.") {
			t.Fatalf("events: %d %v %q", ev.Status, ev.Header, ev.Body)
		}
		// The finished link says so.
		p = (&browser{t: t, e: e}).get(s.link())
		wantPage(t, p, 401, "You have already finished")
	})
}

var stepRE = regexp.MustCompile(`/journey/steps/(\d+)/`)

func stepID(t *testing.T, body string) int64 {
	t.Helper()
	m := stepRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no step on the page:\n%s", body)
	}
	var id int64
	fmt.Sscan(m[1], &id)
	return id
}

var sentRE = regexp.MustCompile(`name="sent" value="([^"]*)"`)

func sentField(t *testing.T, body string) string {
	t.Helper()
	m := sentRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no sent field:\n%s", body)
	}
	return m[1]
}

// TestReclaimJourney: a Reclaim source shows its proof request (an
// inline SVG QR code and a deep link); in test mode the sandbox provider
// makes a sandbox-signed proof and submits it to the step's callback,
// which verifies it on the production path.
func TestReclaimJourney(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := newFixture(t, e)
		s := f.session(t, nil)
		b, _ := f.open(t, s)
		b.post(fmt.Sprintf("/journey/sessions/%d/consent", s.ID), nil)
		p := b.post(fmt.Sprintf("/journey/sessions/%d/sources", s.ID), url.Values{"source": {fmt.Sprint(sourceID(t, e, "Sandbox Reclaim"))}})
		step := stepID(t, p.Body)
		p = b.post(fmt.Sprintf("/journey/steps/%d/initiate", step), nil)
		wantPage(t, p, 200, "<svg", `class="qr"`, "Open on this phone", "Use the sandbox provider", "providerId=")
		if strings.Contains(p.Body, "<script") && !strings.Contains(p.Body, `<script nonce="`) {
			t.Errorf("a script without the nonce")
		}
		p = b.get(fmt.Sprintf("/journey/steps/%d/sandbox", step))
		wantPage(t, p, 200, "Sandbox provider", `name="proof"`)
		proof := regexp.MustCompile(`name="proof" value="([^"]+)"`).FindStringSubmatch(p.Body)[1]
		// A forged proof fails verification: the step fails (nothing else).
		p = b.post(fmt.Sprintf("/journey/steps/%d/proof", step), url.Values{"proof": {"{not json"}})
		wantPage(t, p, 400, "We could not accept that")
		p = b.post(fmt.Sprintf("/journey/steps/%d/proof", step), url.Values{"proof": {htmlUnescape(proof)}})
		wantPage(t, p, 200, "You're verified", "Verified")
	})
}

// TestCSRFRefused: a form without its token, or with another's, is
// refused with a page and writes nothing.
func TestCSRFRefused(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := newFixture(t, e)
		s := f.session(t, nil)
		b, _ := f.open(t, s)
		before := e.Dump()
		for _, token := range []string{"", "forged", b.csrf + "x"} {
			p := b.do("POST", fmt.Sprintf("/journey/sessions/%d/consent", s.ID), url.Values{"csrf": {token}})
			wantPage(t, p, 403, "This form has expired")
		}
		// Another applicant's token does not pass either.
		other, _ := f.open(t, f.session(t, nil))
		p := b.do("POST", fmt.Sprintf("/journey/sessions/%d/consent", s.ID), url.Values{"csrf": {other.csrf}})
		wantPage(t, p, 403, "This form has expired")
		if after := e.Dump(); strings.Count(after, "verification.consent") != strings.Count(before, "verification.consent") {
			t.Fatalf("a refused form wrote a consent")
		}
		// Without the cookie: the page says to open the link again.
		p = (&browser{t: t, e: e}).do("GET", fmt.Sprintf("/journey/sessions/%d/consent", s.ID), nil)
		wantPage(t, p, 401, "Your secure session has ended")
		// Another applicant's session answers as a missing one.
		p = other.do("GET", fmt.Sprintf("/journey/sessions/%d/consent", s.ID), nil)
		wantPage(t, p, 404, "We could not find this page")
		p = other.do("GET", fmt.Sprintf("/journey/sessions/%d/consent", 999999), nil)
		wantPage(t, p, 404, "We could not find this page")
	})
}

// TestLinkProblems: invalid, rotated, expired, cancelled and finished
// links each get their page; an app asking for JSON still gets JSON.
func TestLinkProblems(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := newFixture(t, e)
		fresh := func() *browser { return &browser{t: t, e: e} }
		s := f.session(t, nil)
		wantPage(t, fresh().get(fmt.Sprintf("/partner/verification/verify?token=nope&sessionId=%d", s.ID)), 401, "This link is not valid")
		wantPage(t, fresh().get("/partner/verification/verify?token=x&sessionId=abc"), 401, "This link is not valid")
		// The right token for another session says nothing of either.
		other := f.session(t, nil)
		p := fresh().get(fmt.Sprintf("/partner/verification/verify?token=%s&sessionId=%d", s.Token, other.ID))
		wantPage(t, p, 401, "This link is not valid", "Secure verification")
		if strings.Contains(p.Body, "acme-cu") {
			t.Errorf("an invalid link names the organization")
		}
		// Rotated.
		r := e.Do("POST", fmt.Sprintf("/partner/session/%d/link", s.ID), nil, "x-api-key", f.key)
		if r.Status != 201 {
			t.Fatalf("rotate: %d %s", r.Status, r.Body)
		}
		wantPage(t, fresh().get(s.link()), 401, "This link has been replaced", `<span class="org">Institution acme-cu</span>`)
		if r := e.Do("GET", s.link(), nil, "Accept", "application/json"); r.Status != 401 || !strings.Contains(string(r.Body), `"statusCode":401`) {
			t.Fatalf("JSON: %d %s", r.Status, r.Body)
		}
		// Cancelled: the session's own state (the store moves it).
		c := f.session(t, nil)
		sess, err := e.App.DB.GetSession(e.System, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		sess.Status = verigate.SessionCancelled
		if err := e.App.DB.ApplySessionChange(e.System, verigate.SessionChange{Session: sess}); err != nil {
			t.Fatal(err)
		}
		wantPage(t, fresh().get(c.link()), 401, "This verification was cancelled", "cancelled by Institution acme-cu")
		// Expired.
		x := f.session(t, nil)
		e.Clock.Advance(49 * 60 * 60 * 1e9)
		wantPage(t, fresh().get(x.link()), 401, "This link has expired")
		if _, err := e.App.Jobs.ExpireDue(e.System); err != nil {
			t.Fatal(err)
		}
		wantPage(t, fresh().get(x.link()), 401, "This link has expired")
	})
}

// TestEscapedAndResumed: applicant data is escaped everywhere, and
// reopening the link resumes where the applicant left.
func TestEscapedAndResumed(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := newFixture(t, e)
		evil := `<script>alert(1)</script>`
		s := f.session(t, map[string]any{"applicantFirstName": evil, "instructions": evil + `" onload="x`})
		b, p := f.open(t, s)
		wantPage(t, p, 200, "&lt;script&gt;alert(1)&lt;/script&gt;")
		if strings.Contains(p.Body, evil) {
			t.Fatalf("applicant data unescaped:\n%s", p.Body)
		}
		b.post(fmt.Sprintf("/journey/sessions/%d/consent", s.ID), nil)
		p = b.get(fmt.Sprintf("/journey/sessions/%d/sources?q=%s", s.ID, url.QueryEscape(evil)))
		wantPage(t, p, 200, "Nothing matches")
		if strings.Contains(p.Body, evil) {
			t.Fatalf("the search is unescaped")
		}
		b.post(fmt.Sprintf("/journey/sessions/%d/sources", s.ID), url.Values{"source": {fmt.Sprint(sourceID(t, e, "Sandbox Bank"))}})
		step := stepID(t, b.last.Body)
		b.post(fmt.Sprintf("/journey/steps/%d/initiate", step), nil)
		// Reopening the link (a new browser, a new cookie) resumes at the
		// login form: consent and choice are kept.
		b2, p := f.open(t, s)
		wantPage(t, p, 200, "Sign in to Sandbox Bank")
		// The old cookie's forms are refused once a new cookie is in use
		// elsewhere? No: each cookie keeps working until it expires.
		if b2.csrf == b.csrf {
			t.Fatalf("two cookies, one form token")
		}
	})
}

// TestOrganizationSettings: the institution's logo and frame ancestors
// reach the pages and their Content-Security-Policy.
func TestOrganizationSettings(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := newFixture(t, e)
		if err := e.App.Verify.SetJourneySettings(e.System, "acme-cu", verigate.JourneySettings{LogoURL: "https://cdn.acme.example/logo.svg",
			FrameAncestors: []string{"https://app.acme.example"}}); err != nil {
			t.Fatal(err)
		}
		if err := e.App.Verify.SetJourneySettings(e.System, "acme-cu", verigate.JourneySettings{LogoURL: "javascript:alert(1)"}); verigate.ErrorCode(err) != verigate.EINVALID {
			t.Fatalf("a javascript: logo: %v", err)
		}
		_, p := f.open(t, f.session(t, nil))
		wantPage(t, p, 200, `<img class="logo" src="https://cdn.acme.example/logo.svg"`)
		csp := p.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors https://app.acme.example") || !strings.Contains(csp, "img-src 'self' data: https://cdn.acme.example") {
			t.Fatalf("CSP: %s", csp)
		}
	})
}

// TestRateLimits: the link and the code form are rate-limited, with a page.
func TestRateLimits(t *testing.T) {
	e := apptest.SQLite(t)
	f := newFixture(t, e)
	s := f.session(t, nil)
	var p *page
	for i := 0; i < 31; i++ {
		p = (&browser{t: t, e: e}).do("GET", s.link(), nil)
	}
	wantPage(t, p, 429, "Too many attempts")
	if p.Header.Get("Retry-After") == "" {
		t.Errorf("no Retry-After")
	}
	e.Clock.Advance(2 * 60 * 1e9)
	b, _ := f.open(t, s)
	for i := 0; i < 11; i++ {
		p = b.do("POST", "/journey/steps/1/code", url.Values{"csrf": {b.csrf}, "code": {"1"}})
	}
	wantPage(t, p, 429, "Too many attempts")
}

// TestNothingConnected: a journey whose only step failed does not tell
// the applicant it went well, whatever the session's status.
func TestNothingConnected(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := newFixture(t, e)
		s := f.session(t, nil)
		b, _ := f.open(t, s)
		b.post(fmt.Sprintf("/journey/sessions/%d/consent", s.ID), nil)
		p := b.post(fmt.Sprintf("/journey/sessions/%d/sources", s.ID), url.Values{"source": {fmt.Sprint(sourceID(t, e, "Sandbox Bank"))}})
		step := stepID(t, p.Body)
		b.post(fmt.Sprintf("/journey/steps/%d/initiate", step), nil)
		b.post(fmt.Sprintf("/journey/steps/%d/connect", step), url.Values{"username": {"good"}, "password": {"wrong"}})
		e.App.Worker.Work(context.Background())
		p = b.get(fmt.Sprintf("/journey/sessions/%d/done", s.ID))
		wantPage(t, p, 200, "Not connected")
		if strings.Contains(p.Body, "all done") || strings.Contains(p.Body, "You're verified") || !strings.Contains(p.Body, "could not") {
			t.Fatalf("a failed journey reads as a success:\n%s", p.Body)
		}
	})
}
