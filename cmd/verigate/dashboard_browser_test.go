package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/app"
	"github.com/verigate/verigate/internal/web/webtest"
)

// dashboardPassword is every seeded person's password.
const dashboardPassword = "dashboard password 1"

// dashboardSeed is what seedPeople made for the test to use.
type dashboardSeed struct {
	accessToken string // Northwind's onboarding access token
	call        string // a call waiting in Northwind Credit Union's queue
	accountsKey string // a test-mode key that may open accounts
	bank        int64  // Sandbox Bank's source id
}

// seedPeople gives Northwind a person of every built-in role
// (<role>@northwind.test), an institution, Northwind Credit Union, with a
// call in its queue, an onboarding access token for its service account,
// and a review policy that sends every finished verification to a
// reviewer.
func seedPeople(t *testing.T, out *dashboardSeed) func(a *app.App, sys context.Context) {
	return func(a *app.App, sys context.Context) {
		inst, err := a.Access.CreateOrganization(sys, access.OrgInput{Kind: verigate.OrgInstitution, Key: "northwind-cu",
			Name: "Northwind Credit Union", ParentKey: "northwind", Core: "Symitar"})
		if err != nil {
			t.Fatal(err)
		}
		c, err := a.Calls.Simulate(sys, inst, "+15550107777", "Pat Doe")
		if err != nil {
			t.Fatal(err)
		}
		out.call = c.VoiceID
		if out.accessToken, _, err = a.Access.IssueAccessToken(sys, "northwind"); err != nil {
			t.Fatal(err)
		}
		if err := a.Verify.SetReviewPolicy(sys, "northwind", verigate.ReviewAlways); err != nil {
			t.Fatal(err)
		}
		srcs, err := a.Verify.Sources(sys)
		if err != nil {
			t.Fatal(err)
		}
		for _, src := range srcs {
			if src.SourceName == "Sandbox Bank" {
				out.bank = src.ID
			}
		}
		if out.accountsKey, _, err = a.Access.CreateAPIKey(sys, access.APIKeyInput{OrgKey: "northwind", UserEmail: "svc@northwind.test",
			Scopes: []string{"accounts:read", "accounts:write"}, Mode: verigate.ModeTest}); err != nil {
			t.Fatal(err)
		}
		for _, role := range verigate.BuiltinRoles {
			if _, err := a.Access.CreateUser(sys, access.UserInput{OrgKey: "northwind", Email: role + "@northwind.test",
				Username: role, Password: dashboardPassword, Roles: []string{role}}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// signInDashboard signs a person in through the form, in a browser
// whose earlier session is ended first.
func (s *journeyServer) signInDashboard(t *testing.T, ctx context.Context, email string) {
	t.Helper()
	webtest.Navigate(t, ctx, s.base+"/dashboard/")
	if signedIn, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.querySelector('form[action="/dashboard/sign-out"]')`)); signedIn {
		webtest.Click(t, ctx, `form[action="/dashboard/sign-out"] button`)
		webtest.WaitURL(t, ctx, s.base+"/dashboard/sign-in")
	}
	webtest.Navigate(t, ctx, s.base+"/dashboard/sign-in")
	webtest.Type(t, ctx, "#email", email)
	webtest.Type(t, ctx, "#password", dashboardPassword)
	webtest.Click(t, ctx, `form[action="/dashboard/sign-in"] button`)
	s.page(t, ctx, "/dashboard/", "Overview", "")
}

// waitText waits until the first element matching selector holds text,
// read from the DOM as it is now.
func waitText(t *testing.T, ctx context.Context, selector, text string) {
	t.Helper()
	var got string
	for deadline := time.Now().Add(webtest.WaitTimeout); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		qctx, cancel := context.WithTimeout(ctx, time.Second)
		got, _ = chromedp.Run(qctx, chromedp.Text(chromedp.CSS(selector), chromedp.NodeVisible))
		cancel()
		if strings.Contains(got, text) {
			return
		}
	}
	t.Fatalf("waiting for %q in %s: it holds %q", text, selector, got)
}

// showTestData switches the signed-in dashboard to test data.
func showTestData(t *testing.T, ctx context.Context) {
	t.Helper()
	if text := webtest.Text(t, ctx, `form[action="/dashboard/mode"]`); strings.Contains(text, "Show test data") {
		webtest.Click(t, ctx, `form[action="/dashboard/mode"] button`)
		waitText(t, ctx, "p.notice", "Showing test data")
	}
}

// signOutDashboard signs the browser's person out, if any.
func (s *journeyServer) signOutDashboard(t *testing.T, ctx context.Context) {
	t.Helper()
	webtest.Navigate(t, ctx, s.base+"/dashboard/")
	if signedIn, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.querySelector('form[action="/dashboard/sign-out"]')`)); signedIn {
		webtest.Click(t, ctx, `form[action="/dashboard/sign-out"] button`)
		webtest.WaitURL(t, ctx, s.base+"/dashboard/sign-in")
	}
}

// finishReclaim walks the applicant through a Sandbox Reclaim
// verification in the browser.
func finishReclaim(t *testing.T, ctx context.Context, s *journeyServer, v verificationJSON) {
	t.Helper()
	sess := "/journey/sessions/" + v.Data.ID
	webtest.Navigate(t, ctx, *v.Meta.CandidateURL)
	s.page(t, ctx, sess+"/consent", "Verify your details", "")
	webtest.Click(t, ctx, `form[action$="/consent"] button`)
	s.page(t, ctx, sess+"/sources", "Choose an account", "")
	webtest.Click(t, ctx, "#src-"+strconv.FormatInt(v.sourceID(t, "Sandbox Reclaim"), 10))
	webtest.Click(t, ctx, `form[method="post"][action$="/sources"] button[type="submit"]`)
	s.page(t, ctx, "/journey/steps/", "Connect Sandbox Reclaim", "")
	webtest.Click(t, ctx, `form[action$="/initiate"] button`)
	s.page(t, ctx, "/journey/steps/", "Share from Sandbox Reclaim", "")
	webtest.Click(t, ctx, `a[href$="/sandbox"]`)
	s.page(t, ctx, "/journey/steps/", "Sandbox provider", "")
	webtest.Click(t, ctx, `form[action$="/proof"] button`)
	s.page(t, ctx, sess+"/done", "", "")
}

// external calls Confirm's /external surface with headers, wanting 200.
func (s *journeyServer) external(t *testing.T, method, path string, body any, headers []string, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s = %d: %s", method, path, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("%s %s: %v\n%s", method, path, err, b)
	}
}

// openAccount opens a Sandbox Bank login on /v1 with key.
func (s *journeyServer) openAccount(t *testing.T, key string, bank int64, username string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"source_id": bank, "credentials": map[string]string{"username": username, "password": "pass"}, "label": username})
	req, _ := http.NewRequest("POST", s.base+"/v1/accounts", bytes.NewReader(body))
	req.Header.Set("Authorization", "Api-Key "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("open an account: %d %s", resp.StatusCode, b)
	}
}

// withKey calls path with an API key and returns the status.
func (s *journeyServer) withKey(t *testing.T, key, path string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", s.base+path, nil)
	req.Header.Set("Authorization", "Api-Key "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

var idInPath = regexp.MustCompile(`/[0-9a-f-]{8,}|/[0-9]+`)

// crawlDashboard opens every dashboard page reachable by links from the
// overview, as the person signed in: each answers 200 (no page the role
// may not use is linked) and, the first time its kind of page is seen,
// passes the page checks (axe-core, overflow, console, CSP) and is
// screenshot as <role>-<page>.
func (s *journeyServer) crawlDashboard(t *testing.T, ctx context.Context, role string, checked map[string]bool) {
	t.Helper()
	queue, visited := []string{"/dashboard/"}, map[string]bool{}
	for len(queue) > 0 && len(visited) < 60 {
		path := queue[0]
		queue = queue[1:]
		if visited[path] {
			continue
		}
		visited[path] = true
		if code := webtest.Navigate(t, ctx, s.base+path); code != 200 {
			t.Errorf("%s: linked page %s answered %d", role, path, code)
			continue
		}
		kind := idInPath.ReplaceAllString(strings.SplitN(path, "?", 2)[0], "/id")
		key := kind
		if strings.HasSuffix(role, "-cu") {
			key = "institution " + kind // the same page in an institution shows other things
		}
		if !checked[key] {
			checked[key] = true
			name := strings.Trim(strings.ReplaceAll(strings.TrimPrefix(kind, "/dashboard"), "/", "-"), "-")
			if name == "" {
				name = "overview"
			}
			checkPage(t, ctx, role+"-"+name)
		}
		links, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('a[href^="/dashboard/"]')).map(a => a.getAttribute("href"))`))
		if err != nil {
			t.Fatal(err)
		}
		sort.Strings(links)
		for _, l := range links {
			if l = strings.SplitN(l, "#", 2)[0]; !visited[l] && !strings.HasPrefix(l, "/dashboard/sign-in") {
				queue = append(queue, l)
			}
		}
	}
	t.Logf("%s: %d pages", role, len(visited))
}

// TestBrowserDashboard works the dashboard in headless chromium against
// the real binary, as every built-in role.
func TestBrowserDashboard(t *testing.T) {
	ctx := webtest.New(t)
	var seed dashboardSeed
	s := startJourneyServer(t, seedPeople(t, &seed))
	webtest.Desktop(t, ctx)

	// The sign-in page, on a phone and a desktop.
	webtest.Navigate(t, ctx, s.base+"/dashboard/sign-in")
	s.page(t, ctx, "/dashboard/sign-in", "Sign in", "sign-in-desktop")
	webtest.Phone(t, ctx)
	checkPage(t, ctx, "sign-in")
	webtest.Desktop(t, ctx)

	// A reviewer approves a verification the applicant finished; the
	// audit log shows who.
	t.Run("reviewer", func(t *testing.T) {
		v := s.create(t, "st-review", "Sandbox Reclaim")
		id := v.Data.ID
		finishReclaim(t, ctx, s, v)
		if got := s.get(t, id); got.Data.CoreStatus != "REVIEWING" {
			t.Fatalf("before the review the verification is %s", got.Data.CoreStatus)
		}

		s.signInDashboard(t, ctx, "reviewer@northwind.test")
		showTestData(t, ctx)
		webtest.Click(t, ctx, `nav a[href="/dashboard/review"]`)
		s.page(t, ctx, "/dashboard/review", "Review", "reviewer-queue")
		webtest.Click(t, ctx, `a[href="/dashboard/verifications/`+id+`"]`)
		s.page(t, ctx, "/dashboard/verifications/"+id, "Verification "+id, "reviewer-verification")
		webtest.Type(t, ctx, "#approve-reason", "Income matches the payslips")
		webtest.Click(t, ctx, `form[action="/dashboard/review/`+id+`/approve"] button`)
		waitText(t, ctx, "p.notice", "Verification "+id+" approved")
		s.page(t, ctx, "/dashboard/review", "Review queue", "reviewer-queue-empty")
		webtest.Navigate(t, ctx, s.base+"/dashboard/verifications/"+id)
		s.page(t, ctx, "/dashboard/verifications/"+id, "Verification "+id, "reviewer-approved")
		if got := s.get(t, id); got.Data.CoreStatus != "COMPLETED" {
			t.Fatalf("after the approval the verification is %s", got.Data.CoreStatus)
		}

		s.signInDashboard(t, ctx, "admin@northwind.test")
		webtest.Navigate(t, ctx, s.base+"/dashboard/audit?target="+id)
		s.page(t, ctx, "/dashboard/audit", "Audit log", "admin-audit-review")
		if log := webtest.Text(t, ctx, "main table"); !strings.Contains(log, "reviewer@northwind.test") || !strings.Contains(log, "review") {
			t.Fatalf("the audit log of verification %s: %s", id, log)
		}
	})

	// An operator opens the institution's dashboard through Confirm's
	// login-as URL, once, and enrolls a caller; /external sees it.
	t.Run("operator", func(t *testing.T) {
		var tok struct{ Token string }
		s.external(t, "POST", "/external/token/request", map[string]string{"email": "svc@northwind.test", "password": "service password"},
			[]string{"accessToken", seed.accessToken}, &tok)
		sso := []string{"SsoToken", tok.Token, "RequestedBy", "jdoe"}
		var login struct{ URL string }
		s.external(t, "POST", "/external/institutions/northwind-cu/login", nil, sso, &login)
		if !strings.HasPrefix(login.URL, s.base+"/dashboard/sso?token=") {
			t.Fatalf("login URL %q", login.URL)
		}
		s.signOutDashboard(t, ctx)
		webtest.Navigate(t, ctx, login.URL)
		s.page(t, ctx, "/dashboard/", "Overview", "operator-overview")
		if top := webtest.Text(t, ctx, "header"); !strings.Contains(top, "Northwind Credit Union") || !strings.Contains(top, "jdoe") {
			t.Fatalf("the login-as dashboard's header: %q", top)
		}
		webtest.Click(t, ctx, `nav a[href="/dashboard/calls"]`)
		s.page(t, ctx, "/dashboard/calls", "Calls", "operator-calls")
		webtest.Click(t, ctx, `a[href="/dashboard/calls/`+seed.call+`"]`)
		s.page(t, ctx, "/dashboard/calls/"+seed.call, "", "operator-call")
		webtest.Type(t, ctx, "#personId", "M-2001")
		webtest.Click(t, ctx, `form[action$="/assign"] button`)
		webtest.WaitVisible(t, ctx, "#validationType")
		webtest.Click(t, ctx, `form[action$="/enroll"] button`)
		waitText(t, ctx, "p.notice", "voice enrolled")
		s.page(t, ctx, "/dashboard/calls/"+seed.call, "", "operator-enrolled")
		var details map[string]any
		s.external(t, "GET", "/external/calls/"+seed.call+"/details", nil, append(sso, "InstitutionKey", "northwind-cu"), &details)
		if b, _ := json.Marshal(details); !strings.Contains(string(b), `"isEnrolled":true`) || !strings.Contains(string(b), `"decidedBy":"jdoe"`) {
			t.Fatalf("/external details after the dashboard's enrollment: %s", b)
		}
		// The URL opens the dashboard once.
		s.signOutDashboard(t, ctx)
		if code := webtest.Navigate(t, ctx, login.URL); code != 401 {
			t.Errorf("the login-as URL a second time answered %d", code)
		}
		s.page(t, ctx, "/dashboard/sso", "already been used", "sso-used")
	})

	// An admin creates an API key, a client uses it, the admin revokes it.
	t.Run("admin-key", func(t *testing.T) {
		s.signInDashboard(t, ctx, "admin@northwind.test")
		webtest.Click(t, ctx, `nav a[href="/dashboard/api-keys"]`)
		s.page(t, ctx, "/dashboard/api-keys", "API keys", "")
		webtest.Type(t, ctx, "#key-name", "reporting")
		webtest.Click(t, ctx, `input[name="scope"][value="verifications:read"]`)
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#key-mode").value = "test"`)); err != nil {
			t.Fatal(err)
		}
		webtest.Click(t, ctx, `form[action="/dashboard/api-keys"] button[type="submit"]`)
		webtest.WaitVisible(t, ctx, "#new-key-secret")
		checkPage(t, ctx, "admin-api-key-created")
		key := strings.TrimSpace(webtest.Text(t, ctx, "#new-key-secret"))
		if code := s.withKey(t, key, "/v1/verifications"); code != 200 {
			t.Fatalf("the new key answered %d", code)
		}
		webtest.Click(t, ctx, `form[action$="/revoke"] button`)
		waitText(t, ctx, "p.notice", "revoked")
		if code := s.withKey(t, key, "/v1/verifications"); code != 401 {
			t.Fatalf("the revoked key answered %d", code)
		}
	})

	// An admin adds a webhook endpoint, test-fires it, and sees the
	// attempt in the delivery log.
	t.Run("admin-webhook", func(t *testing.T) {
		got := make(chan string, 10)
		receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got <- r.Header.Get("webhook-id")
			w.WriteHeader(http.StatusNoContent)
		}))
		defer receiver.Close()
		s.signInDashboard(t, ctx, "admin@northwind.test")
		showTestData(t, ctx)
		webtest.Click(t, ctx, `nav a[href="/dashboard/webhooks"]`)
		s.page(t, ctx, "/dashboard/webhooks", "Webhook", "")
		webtest.Click(t, ctx, `a[href^="/dashboard/webhooks/new"]`)
		s.page(t, ctx, "/dashboard/webhooks/new", "New webhook endpoint", "admin-webhook-new")
		webtest.Type(t, ctx, "#wh-url", receiver.URL+"/hooks")
		webtest.Click(t, ctx, `form[action="/dashboard/webhooks"] button[type="submit"]`)
		webtest.WaitVisible(t, ctx, ".secret")
		checkPage(t, ctx, "admin-webhook-secret")
		webtest.Click(t, ctx, `main a.button.primary`)
		s.page(t, ctx, "/dashboard/webhooks/", "", "")
		webtest.Click(t, ctx, `form[action$="/test"] button`)
		waitText(t, ctx, "p.notice", "message queued")
		select {
		case <-got:
		case <-time.After(15 * time.Second):
			t.Fatal("the test message did not arrive")
		}
		for deadline := time.Now().Add(10 * time.Second); ; {
			if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
				t.Fatal(err)
			}
			if log := webtest.Text(t, ctx, "main"); strings.Contains(log, "HTTP 204") && strings.Contains(log, "webhook.test") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the delivery log does not show the attempt: %s", webtest.Text(t, ctx, "main"))
			}
			time.Sleep(200 * time.Millisecond)
		}
		checkPage(t, ctx, "admin-webhook-log")
	})

	t.Run("crawl", func(t *testing.T) {
		s.create(t, "st-crawl", "Sandbox Bank", "Sandbox Reclaim")
		s.openAccount(t, seed.accountsKey, seed.bank, "otp")
		checked := map[string]bool{}
		for _, role := range verigate.BuiltinRoles {
			s.signInDashboard(t, ctx, role+"@northwind.test")
			showTestData(t, ctx) // Northwind's verifications are test data
			s.crawlDashboard(t, ctx, role, checked)
			// And in the institution, where the calls are.
			if sel := `form[action="/dashboard/org"] select`; webtest.Text(t, ctx, sel) != "" {
				if _, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const s = document.querySelector('`+sel+`');
  s.value = Array.from(s.options).find(o => o.text.startsWith("Northwind Credit Union")).value; return s.value; })()`)); err != nil {
					t.Fatal(err)
				}
				webtest.Click(t, ctx, `form[action="/dashboard/org"] button`)
				waitText(t, ctx, "p.notice", "Switched")
				s.crawlDashboard(t, ctx, role+"-cu", checked)
			}
		}
		// The owner's pages again on a phone.
		webtest.Phone(t, ctx)
		defer webtest.Desktop(t, ctx)
		s.signInDashboard(t, ctx, "owner@northwind.test")
		showTestData(t, ctx)
		s.crawlDashboard(t, ctx, "phone", map[string]bool{})
	})

	// Pages a person is refused, and one that is not there.
	t.Run("refusals", func(t *testing.T) {
		s.signInDashboard(t, ctx, "reviewer@northwind.test")
		if code := webtest.Navigate(t, ctx, s.base+"/dashboard/users"); code != 403 {
			t.Errorf("a reviewer on the users page: %d", code)
		}
		s.page(t, ctx, "/dashboard/users", "You do not have access", "forbidden")
		if code := webtest.Navigate(t, ctx, s.base+"/dashboard/verifications/999999"); code != 404 {
			t.Errorf("a missing verification: %d", code)
		}
		s.page(t, ctx, "/dashboard/verifications/999999", "could not find", "not-found")
		s.signOutDashboard(t, ctx)
		checkPage(t, ctx, "signed-out")
		webtest.Type(t, ctx, "#email", "reviewer@northwind.test")
		webtest.Type(t, ctx, "#password", "not the password")
		webtest.Click(t, ctx, `form[action="/dashboard/sign-in"] button`)
		waitText(t, ctx, "#signin-error", "do not match")
		checkPage(t, ctx, "sign-in-refused")
	})
}
