package dashboard_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/app/apptest"
)

// simulate queues a sandbox call at institution.
func simulate(t *testing.T, e *apptest.Env, institution, phone, name string) *verigate.PhoneCall {
	t.Helper()
	inst, err := e.App.Access.Organization(e.System, institution)
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.App.Calls.Simulate(e.System, inst, phone, name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// switchTo moves b's session to organization key.
func switchTo(t *testing.T, e *apptest.Env, b *browser, key string) {
	t.Helper()
	o, err := e.App.Access.Organization(e.System, key)
	if err != nil {
		t.Fatal(err)
	}
	b.get("/dashboard/")
	if p := b.post("/dashboard/org", url.Values{"org": {o.ID}}); p.Status != http.StatusSeeOther {
		t.Fatalf("switch to %s: %d %s", key, p.Status, p.Text())
	}
}

// externalCall reads a call through /external as r's service account.
func externalCall(t *testing.T, e *apptest.Env, r *apptest.Reseller, inst, voiceID string) map[string]any {
	t.Helper()
	resp := e.Do("POST", "/external/token/request", map[string]string{"email": r.Email, "password": r.Password}, "accessToken", r.AccessToken)
	if resp.Status != 200 {
		t.Fatalf("SSO: %d %s", resp.Status, resp.Body)
	}
	tok := resp.JSON(t)["token"].(string)
	resp = e.Do("GET", "/external/calls/"+voiceID+"/details", nil, "SsoToken", tok, "InstitutionKey", inst, "RequestedBy", "auditor")
	if resp.Status != 200 {
		t.Fatalf("details: %d %s", resp.Status, resp.Body)
	}
	return resp.JSON(t)["phoneCall"].(map[string]any)
}

// audit is the newest activity record action on target.
func audit(t *testing.T, e *apptest.Env, action, target string) verigate.AuditEvent {
	t.Helper()
	evs, err := e.App.Access.AuditEvents(e.System, verigate.AuditFilter{Action: action, TargetID: target, Limit: 5})
	if err != nil || len(evs) == 0 {
		t.Fatalf("no %s record for %s: %v", action, target, err)
	}
	return evs[0]
}

func TestCallsQueueAndDecisions(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		email, password := seedUser(t, e, "acme", "admin")
		reseller := &apptest.Reseller{Key: "acme", Email: "svc@acme.test", Password: "password of acme"}
		tok, _, err := e.App.Access.IssueAccessToken(e.System, "acme")
		if err != nil {
			t.Fatal(err)
		}
		reseller.AccessToken = tok
		c1 := simulate(t, e, "acme-cu", "+1 (555) 010-2000", "Jane Roe")
		e.Clock.Advance(time.Minute)
		c2 := simulate(t, e, "acme-cu", "+15550103000", "John Poe")
		b := signIn(t, e, email, password)

		// Acting in the reseller: the page says calls need an institution
		// and offers the switch.
		p := b.get("/dashboard/calls")
		if p.Status != 200 || !strings.Contains(p.Text(), "belongs to an institution") || !strings.Contains(p.Body, `action="/dashboard/org"`) ||
			!strings.Contains(p.Text(), "Institution acme-cu") || strings.Contains(p.Text(), "Jane Roe") {
			t.Fatalf("calls in a reseller: %d %s", p.Status, p.Text())
		}
		if p := b.post("/dashboard/calls/"+c1.VoiceID+"/assign", url.Values{"personId": {"M-1"}}); p.Status != 403 {
			t.Fatalf("assign from a reseller: %d", p.Status)
		}
		switchTo(t, e, b, "acme-cu")

		// The queue, oldest first, with its filters.
		p = b.get("/dashboard/calls")
		save(t, "calls", p)
		txt := p.Text()
		if p.Status != 200 || !strings.Contains(txt, "2 calls waiting") || strings.Index(txt, "Jane Roe") > strings.Index(txt, "John Poe") ||
			!strings.Contains(txt, "+15550102000") || !strings.Contains(txt, "queued") || !strings.Contains(txt, "Not assigned") ||
			!strings.Contains(p.Body, `href="/dashboard/calls/`+c1.VoiceID+`"`) || !strings.Contains(p.Body, `<th scope="col">Risk</th>`) {
			t.Fatalf("queue: %d %s", p.Status, txt)
		}
		if p := b.get("/dashboard/calls?search=poe"); !strings.Contains(p.Text(), "1 call waiting") || strings.Contains(p.Text(), "Jane Roe") {
			t.Fatalf("search: %s", p.Text())
		}
		if p := b.get("/dashboard/calls?limit=1&offset=1"); !strings.Contains(p.Text(), "John Poe") || strings.Contains(p.Text(), "Jane Roe") ||
			!strings.Contains(p.Body, `href="/dashboard/calls?limit=1"`) {
			t.Fatalf("paging: %s", p.Body)
		}
		for _, bad := range []string{"?from=yesterday", "?limit=1000", "?offset=-1", "?search=%00", "?search=%ff", "?from=2026-12-02&to=2026-12-01"} {
			if p := b.get("/dashboard/calls" + bad); p.Status != 400 {
				t.Errorf("queue%s: %d", bad, p.Status)
			}
		}

		// Details, with the forms the status allows.
		p = b.get("/dashboard/calls/" + c1.VoiceID)
		save(t, "call", p)
		if p.Status != 200 || !strings.Contains(p.Text(), "call.ringing") || !strings.Contains(p.Text(), "risk.assessed") ||
			!strings.Contains(p.Text(), "Not assigned to a member yet") || !strings.Contains(p.Body, "/assign") || strings.Contains(p.Body, "/enroll\"") {
			t.Fatalf("details: %d %s", p.Status, p.Text())
		}
		// Bad input keeps the entries.
		if p := b.post("/dashboard/calls/"+c1.VoiceID+"/assign", url.Values{"personId": {""}, "memberName": {"Jane R."}}); p.Status != 422 ||
			!strings.Contains(p.Text(), "personId") || !strings.Contains(p.Body, `value="Jane R."`) {
			t.Fatalf("assign without member: %d %s", p.Status, p.Text())
		}
		if p := b.post("/dashboard/calls/"+c1.VoiceID+"/enroll", url.Values{"validationType": {"otp"}}); p.Status != 409 {
			t.Fatalf("enroll a queued call: %d %s", p.Status, p.Text())
		}
		p = b.post("/dashboard/calls/"+c1.VoiceID+"/assign", url.Values{"personId": {"M-1001"}, "memberName": {"Jane Roe"}})
		if p.Status != http.StatusSeeOther || p.Location() != "/dashboard/calls/"+c1.VoiceID {
			t.Fatalf("assign: %d %s", p.Status, p.Text())
		}
		p = b.follow(p)
		if !strings.Contains(p.Text(), "Call assigned to member M-1001") || !strings.Contains(p.Text(), "Jane Roe (M-1001)") ||
			!strings.Contains(p.Text(), "to M-1001 by "+email) || !strings.Contains(p.Body, `name="validationType"`) {
			t.Fatalf("after assign: %s", p.Text())
		}
		for _, vt := range verigate.ValidationTypes {
			if !strings.Contains(p.Body, `<option value="`+vt+`"`) {
				t.Errorf("validation type %s not offered", vt)
			}
		}
		if p := b.post("/dashboard/calls/"+c1.VoiceID+"/enroll", url.Values{"validationType": {"telepathy"}}); p.Status != 422 || !strings.Contains(p.Text(), "validationType") {
			t.Fatalf("bad validation type: %d %s", p.Status, p.Text())
		}
		p = b.post("/dashboard/calls/"+c1.VoiceID+"/enroll", url.Values{"validationType": {"kba"}})
		if p.Status != http.StatusSeeOther {
			t.Fatalf("enroll: %d %s", p.Status, p.Text())
		}
		if p := b.follow(p); !strings.Contains(p.Text(), "enrolled") || !strings.Contains(p.Text(), "verified by kba by "+email) || !strings.Contains(p.Text(), "Decided by "+email) {
			t.Fatalf("after enroll: %s", p.Text())
		}
		// The same records as /external writes, the person as RequestedBy.
		got := externalCall(t, e, reseller, "acme-cu", c1.VoiceID)
		if got["status"] != "enrolled" || got["isEnrolled"] != true || got["isVerified"] != true || got["validationType"] != "kba" || got["decidedBy"] != email {
			t.Fatalf("through /external: %v", got)
		}
		for _, a := range []struct{ action, target string }{{"AssignCall", c1.VoiceID}, {"AcceptCallerVoice", c1.VoiceID}, {"FullAuthentication", "M-1001"}} {
			if ev := audit(t, e, a.action, a.target); ev.RequestedBy != email {
				t.Errorf("%s: requestedBy %q", a.action, ev.RequestedBy)
			}
		}
		// The enrolled call left the queue.
		if p := b.get("/dashboard/calls"); !strings.Contains(p.Text(), "1 call waiting") || strings.Contains(p.Text(), "Jane Roe") {
			t.Fatalf("queue after enroll: %s", p.Text())
		}

		// Reject: assign, then reject with a reason.
		b.get("/dashboard/calls/" + c2.VoiceID)
		b.post("/dashboard/calls/"+c2.VoiceID+"/assign", url.Values{"personId": {"M-2002"}})
		if p := b.post("/dashboard/calls/"+c2.VoiceID+"/reject-voice", url.Values{"reason": {strings.Repeat("x", 501)}}); p.Status != 422 {
			t.Fatalf("long reason: %d", p.Status)
		}
		p = b.post("/dashboard/calls/"+c2.VoiceID+"/reject-voice", url.Values{"reason": {"voice mismatch"}})
		if p.Status != http.StatusSeeOther {
			t.Fatalf("reject: %d %s", p.Status, p.Text())
		}
		if p := b.follow(p); !strings.Contains(p.Text(), "rejected") || !strings.Contains(p.Text(), "by "+email+": voice mismatch") {
			t.Fatalf("after reject: %s", p.Text())
		}
		if ev := audit(t, e, "RejectCallerVoice", c2.VoiceID); ev.RequestedBy != email {
			t.Errorf("reject requestedBy %q", ev.RequestedBy)
		}

		// Another tenant's call, and a made-up one, are missing.
		e.SeedReseller("beta", "beta-cu")
		other := simulate(t, e, "beta-cu", "+15550109999", "Other Person")
		for _, path := range []string{"/dashboard/calls/" + other.VoiceID, "/dashboard/calls/nope", "/dashboard/calls/" + strings.Repeat("a", 80)} {
			if p := b.get(path); p.Status != 404 || !strings.Contains(p.Text(), "could not find") {
				t.Errorf("%s: %d", path, p.Status)
			}
		}
		if p := b.post("/dashboard/calls/"+other.VoiceID+"/assign", url.Values{"personId": {"M-1"}}); p.Status != 404 {
			t.Errorf("assign another tenant's call: %d", p.Status)
		}
	})
}

func TestCallsViewer(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		c := func() *verigate.PhoneCall {
			seedUser(t, e, "acme", "admin")
			return simulate(t, e, "acme-cu", "+15550102000", "Jane Roe")
		}()
		viewer := as(t, e, "acme", "viewer")
		switchTo(t, e, viewer, "acme-cu")
		if p := viewer.get("/dashboard/"); !strings.Contains(p.Body, `href="/dashboard/calls"`) {
			t.Fatal("no calls link for a viewer")
		}
		p := viewer.get("/dashboard/calls/" + c.VoiceID)
		if p.Status != 200 || !strings.Contains(p.Text(), "Jane Roe") || strings.Contains(p.Body, "/assign") || strings.Contains(p.Body, "reject-voice") {
			t.Fatalf("viewer details: %d %s", p.Status, p.Body)
		}
		for _, a := range []string{"assign", "enroll", "reject-voice"} {
			if p := viewer.post("/dashboard/calls/"+c.VoiceID+"/"+a, url.Values{"personId": {"M-1"}, "validationType": {"otp"}}); p.Status != 403 {
				t.Errorf("viewer %s: %d", a, p.Status)
			}
		}
		// An operator works the institution's calls.
		op := as(t, e, "acme", "operator")
		switchTo(t, e, op, "acme-cu")
		if p := op.get("/dashboard/calls"); p.Status != 200 || !strings.Contains(p.Text(), "Jane Roe") {
			t.Errorf("operator calls: %d %s", p.Status, p.Text())
		}
		if p := op.post("/dashboard/calls/"+c.VoiceID+"/assign", url.Values{"personId": {"M-1"}}); p.Status != http.StatusSeeOther {
			t.Errorf("operator assign: %d %s", p.Status, p.Text())
		}
		// A developer has no calls permission: no link, 403.
		dev := as(t, e, "acme", "developer")
		if p := dev.get("/dashboard/"); strings.Contains(p.Body, `href="/dashboard/calls"`) {
			t.Error("calls link for a developer")
		}
		if p := dev.get("/dashboard/calls"); p.Status != 403 {
			t.Errorf("developer calls: %d", p.Status)
		}
	})
}

// TestCallsThroughLoginToken follows Confirm's login-as URL into the
// dashboard: once, within its lifetime, acting as the operator it names.
func TestCallsThroughLoginToken(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		r := e.SeedReseller("conf", "conf-cu")
		resp := e.Do("POST", "/external/token/request", map[string]string{"email": r.Email, "password": r.Password}, "accessToken", r.AccessToken)
		sso := resp.JSON(t)["token"].(string)
		headers := []string{"SsoToken", sso, "InstitutionKey", "conf-cu", "RequestedBy", "jdoe"}
		link := func() string {
			t.Helper()
			resp := e.Do("POST", "/external/token/request/user", nil, headers...)
			if resp.Status != 200 {
				t.Fatalf("user token: %d %s", resp.Status, resp.Body)
			}
			u := resp.JSON(t)["url"].(string)
			if !strings.HasPrefix(u, "https://verigate.test/dashboard/sso?token=") {
				t.Fatalf("url %q", u)
			}
			return strings.TrimPrefix(u, "https://verigate.test")
		}
		c := simulate(t, e, "conf-cu", "+15550104000", "Lee Caller")
		path := link()
		b := newBrowser(t, e)
		p := b.get(path)
		if p.Status != http.StatusSeeOther || p.Location() != "/dashboard/" || b.cookies["vg_dash"] == "" {
			t.Fatalf("sso: %d %q %v", p.Status, p.Location(), b.cookies)
		}
		if p := b.get("/dashboard/"); p.Status != 200 || !strings.Contains(p.Text(), "Institution conf-cu") || !strings.Contains(p.Text(), "jdoe") {
			t.Fatalf("overview: %d %s", p.Status, p.Text())
		}
		if p := b.get("/dashboard/calls"); p.Status != 200 || !strings.Contains(p.Text(), "Lee Caller") {
			t.Fatalf("calls: %d %s", p.Status, p.Text())
		}
		b.get("/dashboard/calls/" + c.VoiceID)
		b.post("/dashboard/calls/"+c.VoiceID+"/assign", url.Values{"personId": {"M-9"}})
		if p := b.post("/dashboard/calls/"+c.VoiceID+"/enroll", url.Values{"validationType": {"callback"}}); p.Status != http.StatusSeeOther {
			t.Fatalf("enroll: %d %s", p.Status, p.Text())
		}
		got := externalCall(t, e, r, "conf-cu", c.VoiceID)
		if got["status"] != "enrolled" || got["isEnrolled"] != true || got["decidedBy"] != "jdoe" {
			t.Fatalf("through /external: %v", got)
		}
		if ev := audit(t, e, "AcceptCallerVoice", c.VoiceID); ev.RequestedBy != "jdoe" {
			t.Errorf("requestedBy %q", ev.RequestedBy)
		}

		// The same link again: refused, no session.
		again := newBrowser(t, e)
		if p := again.get(path); p.Status != 401 || !strings.Contains(p.Text(), "already been used") || again.cookies["vg_dash"] != "" {
			t.Fatalf("second use: %d %s %v", p.Status, p.Text(), again.cookies)
		}
		// An expired link: the same answer.
		late := link()
		e.Clock.Advance(31 * time.Minute)
		expired := newBrowser(t, e)
		if p := expired.get(late); p.Status != 401 || !strings.Contains(p.Text(), "already been used") || expired.cookies["vg_dash"] != "" {
			t.Fatalf("expired: %d %s %v", p.Status, p.Text(), expired.cookies)
		}
	})
}
