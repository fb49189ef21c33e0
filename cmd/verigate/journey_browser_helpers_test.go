package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/app"
	"github.com/verigate/verigate/internal/web/webtest"
	"github.com/verigate/verigate/internal/webhook"
)

// journeyServer is the real binary serving a partner, Northwind Lending,
// with a test-mode API key, its verification secret, and the partner's
// two local receivers: the redirect back and the verification webhooks.
type journeyServer struct {
	base      string
	key       string
	secret    string // the verification secret, whsec_…
	srv       *child
	redirects *redirectReceiver
	hooks     *hookReceiver
}

const partnerName = "Northwind Lending"

// startJourneyServer seeds the partner through an app on the database (as
// the admin CLI would), starts `verigate serve` on it and rotates the
// verification secret over HTTP, so the test knows it.
func startJourneyServer(t *testing.T, seed ...func(a *app.App, sys context.Context)) *journeyServer {
	t.Helper()
	dir := t.TempDir()
	a := openApp(t, dir+"/verigate.db")
	sys := verigate.WithPrincipal(context.Background(), verigate.System)
	if _, err := a.Access.CreateOrganization(sys, access.OrgInput{Kind: verigate.OrgReseller, Key: "northwind", Name: partnerName}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Access.CreateUser(sys, access.UserInput{OrgKey: "northwind", Email: "svc@northwind.test", Username: "svc",
		Password: "service password", Roles: []string{verigate.RoleOwner}, ServiceAccount: true}); err != nil {
		t.Fatal(err)
	}
	key, _, err := a.Access.CreateAPIKey(sys, access.APIKeyInput{OrgKey: "northwind", UserEmail: "svc@northwind.test",
		Scopes: []string{"verifications:create", "verifications:read", "verifications:update", "webhooks:read", "webhooks:write"},
		Mode:   verigate.ModeTest, RateLimit: &verigate.RateLimitPolicy{TTL: time.Minute, Limit: 1_000_000, BlockDuration: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range seed {
		f(a, sys)
	}
	a.Close()

	s := &journeyServer{key: key, redirects: newRedirectReceiver(t)}
	s.srv = startChild(t, dir, webhookEnv, "serve")
	s.base = s.srv.base(t)
	var rotated struct{ Secret string }
	s.api(t, "POST", "/v1/verification-secret/rotate", nil, 200, &rotated)
	if !strings.HasPrefix(rotated.Secret, "whsec_") {
		t.Fatalf("verification secret %q", rotated.Secret)
	}
	s.secret = rotated.Secret
	s.hooks = newHookReceiver(t, s.secret)
	return s
}

// api calls the server with the API key, wants status and decodes the
// answer into out (when not nil).
func (s *journeyServer) api(t *testing.T, method, path string, body any, status int, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.base+path, rd)
	req.Header.Set("x-api-key", s.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("%s %s = %d, want %d: %s", method, path, resp.StatusCode, status, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v\n%s", method, path, err, b)
		}
	}
}

// verificationJSON is the part of a /v1 verification the test reads.
type verificationJSON struct {
	Data struct {
		ID, Status string
		CoreStatus string
		Activities []struct {
			ID           int64
			Name, Status string
			Results      json.RawMessage
		}
	}
	Meta struct{ CandidateURL *string }
}

// create makes a verification for Ada with the named sources that returns
// to the redirect receiver and reports to the webhook receiver.
func (s *journeyServer) create(t *testing.T, state string, sources ...string) verificationJSON {
	t.Helper()
	var v verificationJSON
	s.api(t, "POST", "/v1/verifications", map[string]any{
		"data": map[string]any{"firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com", "activities": sources},
		"meta": map[string]any{"redirectUrl": s.redirects.srv.URL + "/verified?from=verigate", "webhookUrl": s.hooks.srv.URL + "/hooks", "state": state},
	}, 201, &v)
	if v.Meta.CandidateURL == nil || !strings.HasPrefix(*v.Meta.CandidateURL, s.base+"/partner/verification/verify?") {
		t.Fatalf("candidate URL %v, want one on %s", v.Meta.CandidateURL, s.base)
	}
	return v
}

// sourceID is the id of the verification's activity for source name.
func (v verificationJSON) sourceID(t *testing.T, name string) int64 {
	t.Helper()
	for _, a := range v.Data.Activities {
		if a.Name == name {
			return a.ID
		}
	}
	t.Fatalf("no activity %q in %+v", name, v.Data.Activities)
	return 0
}

// redirectReceiver is the partner's page the applicant returns to: it
// records each query it is opened with.
type redirectReceiver struct {
	srv *httptest.Server
	got chan url.Values
}

func newRedirectReceiver(t *testing.T) *redirectReceiver {
	r := &redirectReceiver{got: make(chan url.Values, 10)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != "/verified" {
			http.NotFound(w, req)
			return
		}
		r.got <- req.URL.Query()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Northwind</title></head><body><h1>Welcome back</h1></body></html>`)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *redirectReceiver) wait(t *testing.T) url.Values {
	t.Helper()
	select {
	case q := <-r.got:
		return q
	case <-time.After(10 * time.Second):
		t.Fatal("the redirect receiver was not opened")
	}
	return nil
}

// hookReceiver is the verification's webhook endpoint: it verifies each
// delivery's Standard Webhooks signature with the verification secret
// and records the events that verify.
type hookReceiver struct {
	srv    *httptest.Server
	key    []byte
	mu     sync.Mutex
	events []hookEvent
	bad    []string
}

type hookEvent struct {
	Type string
	Data map[string]any
}

func newHookReceiver(t *testing.T, secret string) *hookReceiver {
	key, err := webhook.ParseSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	h := &hookReceiver{key: key}
	h.srv = httptest.NewServer(h)
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := webhook.Verify(h.key, r.Header, body, time.Now()); err != nil {
		h.bad = append(h.bad, err.Error()+": "+string(body))
		w.WriteHeader(400)
		return
	}
	var ev hookEvent
	json.Unmarshal(body, &ev)
	h.events = append(h.events, ev)
	w.WriteHeader(204)
}

// waitEvent waits until an event of type typ about verification id has
// arrived, signed with the verification secret.
func (h *hookReceiver) waitEvent(t *testing.T, typ, id string) hookEvent {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		h.mu.Lock()
		for _, ev := range h.events {
			if ev.Type == typ && (fmt.Sprint(ev.Data["sessionId"]) == id || fmt.Sprint(ev.Data["id"]) == id) {
				h.mu.Unlock()
				return ev
			}
		}
		got, bad := fmt.Sprintf("%+v", h.events), h.bad
		h.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("no %s for verification %s after 15s; received %s; signatures that did not verify: %q", typ, id, got, bad)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// page waits until the browser shows the journey page whose URL starts
// with path (on the server) and whose h1 holds heading, then checks it
// like every journey page: a screenshot named name, axe-core without a
// serious or critical violation, nothing sticking out at 375 px, and no
// console error, exception or CSP violation. It waits for the heading,
// not only the URL: a step's start, sign-in and code pages share theirs.
func (s *journeyServer) page(t *testing.T, ctx context.Context, path, heading, name string) string {
	t.Helper()
	const js = `(() => { const h = document.querySelector("main h1");
  return document.readyState === "complete" && h ? location.href + "\n" + h.textContent.trim() : ""; })()`
	var u, h string
	for deadline := time.Now().Add(webtest.WaitTimeout); ; {
		ectx, cancel := context.WithTimeout(ctx, 2*time.Second)
		got, err := chromedp.Run(ectx, chromedp.Evaluate[string](js))
		cancel()
		u, h, _ = strings.Cut(got, "\n")
		if err == nil && strings.HasPrefix(u, s.base+path) && strings.Contains(h, heading) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s with the heading %q: the browser is at %s, heading %q (%v)", path, heading, u, h, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if name != "" {
		checkPage(t, ctx, name)
	}
	return u
}

func checkPage(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	webtest.Screenshot(t, ctx, name)
	webtest.Axe(t, ctx)
	webtest.NoHorizontalOverflow(t, ctx)
	webtest.NoPageErrors(t, ctx)
}

// onDesktop checks the current page again on a desktop, then returns to
// the phone.
func onDesktop(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	webtest.Desktop(t, ctx)
	checkPage(t, ctx, name+"-desktop")
	webtest.Phone(t, ctx)
}

// holdLiveUpdates keeps the journey's live-progress streams from
// connecting until release, so a page that moves on by itself stays put
// while it is checked; release lets the paused stream through.
func holdLiveUpdates(t *testing.T, ctx context.Context) (release func()) {
	t.Helper()
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*/journey/sessions/*/events"}}}); err != nil {
		t.Fatalf("Fetch.enable: %v", err)
	}
	return func() {
		t.Helper()
		if _, err := chromedp.Call(ctx, fetch.Disable, cdp.Empty{}); err != nil {
			t.Fatalf("Fetch.disable: %v", err)
		}
	}
}
