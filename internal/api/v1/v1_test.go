package v1_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	v1 "github.com/verigate/verigate/internal/api/v1"
	"github.com/verigate/verigate/internal/app/apptest"
)

var allScopes = []string{"accounts:read", "accounts:write", "otp:write", "status:read"}

type fixture struct {
	e       *apptest.Env
	key     string
	sandbox int64
}

func newFixture(t testing.TB, e *apptest.Env) *fixture {
	e.SeedReseller("acme", "acme-cu")
	f := &fixture{e: e, key: makeKey(t, e, "acme", access.APIKeyInput{Scopes: allScopes})}
	srcs, _ := e.App.Verify.Sources(e.System)
	for _, s := range srcs {
		if s.SourceName == "Sandbox Bank" {
			f.sandbox = s.ID
		}
	}
	return f
}

func makeKey(t testing.TB, e *apptest.Env, org string, in access.APIKeyInput) string {
	t.Helper()
	in.OrgKey, in.UserEmail = org, "svc@"+org+".test"
	if in.Mode == "" {
		in.Mode = verigate.ModeTest
	}
	k, _, err := e.App.Access.CreateAPIKey(e.System, in)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func (f *fixture) connect(t testing.TB, username string) string {
	t.Helper()
	r := f.e.Do("POST", "/v1/accounts", map[string]any{"source_id": f.sandbox, "credentials": map[string]string{"username": username, "password": "pass"}, "label": username},
		"Authorization", "Api-Key "+f.key)
	if r.Status != 201 {
		t.Fatalf("create account: %d %s", r.Status, r.Body)
	}
	return r.JSON(t)["account_id"].(string)
}

func (f *fixture) work(t testing.TB) {
	t.Helper()
	if _, err := f.e.App.Worker.Work(context.Background()); err != nil {
		t.Fatal(err)
	}
}

type status struct {
	AccountID         string `json:"account_id"`
	SessionRunning    bool   `json:"session_running"`
	PendingAssistance *struct {
		ID         string
		Type       string
		Descriptor struct {
			Length  int
			Type    string
			Purpose string
		}
		Attempts int
	} `json:"pending_assistance"`
}

func (f *fixture) status(t *testing.T, id string) status {
	t.Helper()
	var s status
	r := f.e.Do("GET", "/v1/accounts/"+id+"/status", nil, "x-api-key", f.key)
	if r.Status != 200 {
		t.Fatalf("status: %d %s", r.Status, r.Body)
	}
	r.Decode(t, &s)
	return s
}

func (f *fixture) otp(t *testing.T, id, code string) *apptest.Response {
	t.Helper()
	return f.e.Do("POST", "/v1/accounts/"+id+"/otp", map[string]string{"code": code}, "Authorization", "Api-Key "+f.key)
}

func wantError(t *testing.T, r *apptest.Response, status int, code string) {
	t.Helper()
	var body struct {
		Error struct {
			Code, Message string
			Details       []struct{ Field, Message string }
		}
	}
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	r.Decode(t, &body)
	if body.Error.Code != code || body.Error.Message == "" {
		t.Fatalf("error %s, want code %s", r.Body, code)
	}
	if code == "VALIDATION_ERROR" && len(body.Error.Details) == 0 && !strings.Contains(body.Error.Message, "JSON") && !strings.Contains(body.Error.Message, "body") {
		t.Fatalf("validation error names no field: %s", r.Body)
	}
}

// readEvents reads n events from an SSE stream.
func readEvents(t *testing.T, url, key, lastID string, n int) []map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	req.Header.Set("x-api-key", key)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %v", resp.StatusCode, resp.Header)
	}
	var out []map[string]string
	cur := map[string]string{}
	sc := bufio.NewScanner(resp.Body)
	for len(out) < n && sc.Scan() {
		line := sc.Text()
		if line == "" {
			if cur["event"] != "" {
				out = append(out, cur)
			}
			cur = map[string]string{}
			continue
		}
		if k, v, ok := strings.Cut(line, ": "); ok {
			cur[k] = v
		}
	}
	return out
}

func TestOTPLoop(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := newFixture(t, e)
		id := f.connect(t, "otp")
		if s := f.status(t, id); !s.SessionRunning || s.PendingAssistance != nil {
			t.Fatalf("queued: %+v", s)
		}
		f.work(t)
		s := f.status(t, id)
		if p := s.PendingAssistance; !s.SessionRunning || p == nil || p.Type != "otp" || p.Descriptor.Length != 6 || p.Descriptor.Type != "numeric" || p.Attempts != 0 {
			t.Fatalf("awaiting: %+v", s)
		}
		if r := f.otp(t, id, "000000"); r.Status != 202 || string(r.Body) != "{\"submitted\":true}\n" {
			t.Fatalf("wrong code: %d %s", r.Status, r.Body)
		}
		f.work(t)
		if s := f.status(t, id); s.PendingAssistance == nil || s.PendingAssistance.Attempts != 1 {
			t.Fatalf("after a wrong code: %+v", s)
		}
		if r := f.otp(t, id, "123456"); r.Status != 202 {
			t.Fatalf("right code: %d %s", r.Status, r.Body)
		}
		f.work(t)
		s = f.status(t, id)
		if s.SessionRunning || s.PendingAssistance != nil {
			t.Fatalf("after the right code: %+v", s)
		}
		var acct map[string]any
		e.Do("GET", "/v1/accounts/"+id, nil, "x-api-key", f.key).Decode(t, &acct)
		if acct["status"] != "connected" || !strings.Contains(fmt.Sprint(acct["data"]), "Everyday Checking") || strings.Contains(fmt.Sprint(acct), "pass") {
			t.Fatalf("account: %v", acct)
		}
		wantError(t, f.otp(t, id, "123456"), 404, "NOT_FOUND")

		// The stream holds the events in order; a reconnect resumes after Last-Event-ID.
		srv := httptest.NewServer(e.App.Server)
		defer srv.Close()
		events := readEvents(t, srv.URL+"/v1/accounts/"+id+"/events", f.key, "", 3)
		var types []string
		for _, ev := range events {
			types = append(types, ev["event"])
		}
		if strings.Join(types, ",") != "assistance_required,assistance_fulfilled,connected" {
			t.Fatalf("stream: %v", events)
		}
		rest := readEvents(t, srv.URL+"/v1/accounts/"+id+"/events", f.key, events[0]["id"], 2)
		if len(rest) != 2 || rest[0]["id"] != events[1]["id"] || rest[1]["id"] != events[2]["id"] {
			t.Fatalf("resume after %s: %v", events[0]["id"], rest)
		}
		org, _ := e.App.Access.Organization(e.System, "acme")
		outbox, _ := e.App.DB.ListEvents(e.System, org.ID, 0, 100)
		var kinds []string
		for _, ev := range outbox {
			kinds = append(kinds, string(ev.Type))
		}
		for _, want := range []string{"assistance.required", "assistance.resolved", "connection.connected"} {
			if !strings.Contains(strings.Join(kinds, ","), want) {
				t.Errorf("outbox lacks %s: %v", want, kinds)
			}
		}
	})
}

func TestLiveStream(t *testing.T) {
	e := apptest.SQLite(t)
	f := newFixture(t, e)
	id := f.connect(t, "otp")
	srv := httptest.NewServer(e.App.Server)
	defer srv.Close()
	got := make(chan []map[string]string)
	go func() { got <- readEvents(t, srv.URL+"/v1/accounts/"+id+"/events", f.key, "", 2) }()
	time.Sleep(100 * time.Millisecond) // the stream is open and empty
	f.work(t)
	f.otp(t, id, "123456")
	f.work(t)
	select {
	case evs := <-got:
		if len(evs) != 2 || evs[0]["event"] != "assistance_required" || evs[1]["event"] != "assistance_fulfilled" {
			t.Fatalf("live events: %v", evs)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the open stream never saw the events")
	}
}

func TestSandboxBankPaths(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := newFixture(t, e)
		account := func(id string) map[string]any {
			var a map[string]any
			e.Do("GET", "/v1/accounts/"+id, nil, "x-api-key", f.key).Decode(t, &a)
			return a
		}
		good, locked := f.connect(t, "good"), f.connect(t, "locked")
		bad := e.Do("POST", "/v1/accounts", map[string]any{"source_id": f.sandbox, "credentials": map[string]string{"username": "good", "password": "nope"}},
			"x-api-key", f.key).JSON(t)["account_id"].(string)
		alpha, twice, slow, guess := f.connect(t, "alpha"), f.connect(t, "twice"), f.connect(t, "slow"), f.connect(t, "otp")
		f.work(t)
		if a := account(good); a["status"] != "connected" {
			t.Fatalf("good: %v", a)
		}
		if a := account(bad); a["status"] != "failed" || a["failure_reason"] != "invalid credentials" {
			t.Fatalf("wrong password: %v", a)
		}
		if a := account(locked); a["status"] != "failed" || !strings.Contains(a["failure_reason"].(string), "locked") {
			t.Fatalf("locked: %v", a)
		}
		if s := f.status(t, alpha); s.PendingAssistance.Descriptor.Type != "alphanumeric" || s.PendingAssistance.Descriptor.Length != 8 {
			t.Fatalf("alpha: %+v", s)
		}
		f.otp(t, alpha, "AB12CD34")
		// Two codes in a row.
		first := f.status(t, twice).PendingAssistance.ID
		f.otp(t, twice, "123456")
		f.work(t)
		if a := account(alpha); a["status"] != "connected" {
			t.Fatalf("alpha after its code: %v", a)
		}
		s := f.status(t, twice)
		if s.PendingAssistance == nil || s.PendingAssistance.ID == first || s.PendingAssistance.Attempts != 0 {
			t.Fatalf("twice, second code: %+v", s)
		}
		f.otp(t, twice, "654321")
		// Slow: still running until its time comes.
		if s := f.status(t, slow); !s.SessionRunning || s.PendingAssistance != nil {
			t.Fatalf("slow: %+v", s)
		}
		e.Clock.Advance(3 * time.Second)
		f.work(t)
		if a := account(twice); a["status"] != "connected" {
			t.Fatalf("twice: %v", a)
		}
		if a := account(slow); a["status"] != "connected" {
			t.Fatalf("slow after 3s: %v", a)
		}
		// Three wrong codes fail the login.
		for range 3 {
			f.otp(t, guess, "111111")
			f.work(t)
		}
		if a := account(guess); a["status"] != "failed" || !strings.Contains(a["failure_reason"].(string), "3 wrong codes") {
			t.Fatalf("three wrong codes: %v", a)
		}
		// A refresh starts over.
		if r := e.Do("POST", "/v1/accounts/"+guess+"/refresh", nil, "x-api-key", f.key); r.Status != 202 {
			t.Fatalf("refresh: %d %s", r.Status, r.Body)
		}
		wantError(t, e.Do("POST", "/v1/accounts/"+guess+"/refresh", nil, "x-api-key", f.key), 409, "CONFLICT")
		f.work(t)
		if s := f.status(t, guess); s.PendingAssistance == nil || s.PendingAssistance.Attempts != 0 {
			t.Fatalf("after refresh: %+v", s)
		}
		// An unanswered request expires after five minutes, and the login fails.
		e.Clock.Advance(5*time.Minute + time.Second)
		f.work(t)
		if a := account(guess); a["status"] != "failed" || !strings.Contains(a["failure_reason"].(string), "no code arrived") {
			t.Fatalf("expired: %v", a)
		}
		srv := httptest.NewServer(e.App.Server)
		defer srv.Close()
		evs := readEvents(t, srv.URL+"/v1/accounts/"+guess+"/events", f.key, "", 5)
		last := evs[len(evs)-2:]
		if last[0]["event"] != "assistance_expired" || last[1]["event"] != "connection_failed" {
			t.Fatalf("expiry events: %v", evs)
		}
		var list struct{ Accounts []map[string]any }
		e.Do("GET", "/v1/accounts?limit=100", nil, "x-api-key", f.key).Decode(t, &list)
		if len(list.Accounts) != 7 {
			t.Fatalf("list: %d accounts", len(list.Accounts))
		}
	})
}

// TestLeaseRecovery: a worker that dies holding a connection leaves it for
// another once the lease runs out; nothing stays stuck.
func TestLeaseRecovery(t *testing.T) {
	e := apptest.SQLite(t)
	f := newFixture(t, e)
	id := f.connect(t, "good")
	c, _ := e.App.DB.GetConnection(e.System, id)
	lease := e.Clock.Now().Add(30 * time.Second)
	c.LeaseUntil = &lease // a worker claimed it, then the process died
	if err := e.App.DB.ApplyConnectionChange(e.System, verigate.ConnectionChange{Connection: c}); err != nil {
		t.Fatal(err)
	}
	f.work(t)
	if s := f.status(t, id); !s.SessionRunning {
		t.Fatal("a leased connection was taken before its lease ran out")
	}
	e.Clock.Advance(31 * time.Second)
	f.work(t)
	var a map[string]any
	e.Do("GET", "/v1/accounts/"+id, nil, "x-api-key", f.key).Decode(t, &a)
	if a["status"] != "connected" {
		t.Fatalf("after the lease ran out: %v", a)
	}
}

// TestStreamCap: one key holds at most MaxStreamsPerKey open streams; a
// closed stream frees its slot, and other keys are not affected.
func TestStreamCap(t *testing.T) {
	e := apptest.SQLite(t)
	f := newFixture(t, e)
	id := f.connect(t, "otp")
	srv := httptest.NewServer(e.App.Server)
	defer srv.Close()
	open := func(key string) (*http.Response, context.CancelFunc) {
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/v1/accounts/"+id+"/events", nil)
		req.Header.Set("x-api-key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp, cancel
	}
	var cancels []context.CancelFunc
	defer func() {
		for _, c := range cancels {
			c()
		}
	}()
	for i := range v1.MaxStreamsPerKey {
		resp, cancel := open(f.key)
		cancels = append(cancels, cancel)
		if resp.StatusCode != 200 {
			t.Fatalf("stream %d: %d", i+1, resp.StatusCode)
		}
	}
	resp, cancel := open(f.key)
	body, _ := io.ReadAll(resp.Body)
	cancel()
	if resp.StatusCode != 429 || !strings.Contains(string(body), "RATE_LIMITED") {
		t.Fatalf("one stream too many: %d %s", resp.StatusCode, body)
	}
	other := makeKey(t, e, "acme", access.APIKeyInput{Scopes: allScopes})
	if resp, cancel := open(other); resp.StatusCode != 200 {
		t.Fatalf("another key's stream: %d", resp.StatusCode)
	} else {
		cancels = append(cancels, cancel)
	}
	cancels[0]()
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, cancel := open(f.key)
		cancels = append(cancels, cancel)
		if resp.StatusCode == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a closed stream's slot was not freed: %d", resp.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
