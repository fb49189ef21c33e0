package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/sqlstore"
	"github.com/verigate/verigate/internal/sqlstore/storetest"
	"github.com/verigate/verigate/internal/webhook"
)

// webhookEnv lets the servers under test deliver to a loopback receiver.
var webhookEnv = []string{"VERIGATE_WEBHOOK_ALLOW_PRIVATE=true"}

// arrival is one request the receiver got.
type arrival struct {
	id     string
	status int
}

// recorder is a real local receiver: it verifies each message's
// signature, answers with respond (204 when nil) and records every
// request in order.
type recorder struct {
	mu       sync.Mutex
	secret   []byte
	respond  func(n int) (status int, header http.Header) // n: requests so far, this one included
	arrivals []arrival
	bad      []string
	srv      *httptest.Server
}

func newRecorder(t *testing.T) *recorder {
	r := &recorder{}
	r.srv = httptest.NewServer(r)
	t.Cleanup(r.srv.Close)
	return r
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	sig := webhook.SignatureFrom(req.Header)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := webhook.Check(r.secret, sig, body, time.Now()); err != nil {
		r.bad = append(r.bad, sig.ID+": "+err.Error())
		w.WriteHeader(400)
		return
	}
	status := 204
	if r.respond != nil {
		var h http.Header
		status, h = r.respond(len(r.arrivals) + 1)
		for k, v := range h {
			w.Header()[k] = v
		}
	}
	r.arrivals = append(r.arrivals, arrival{id: sig.ID, status: status})
	w.WriteHeader(status)
}

func (r *recorder) snapshot() (arrivals []arrival, bad []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.arrivals), slices.Clone(r.bad)
}

// delivered returns the ids answered 2xx, in arrival order.
func (r *recorder) delivered() []string {
	as, _ := r.snapshot()
	var ids []string
	for _, a := range as {
		if a.status < 300 {
			ids = append(ids, a.id)
		}
	}
	return ids
}

// waitDelivered waits until n messages were answered 2xx.
func (r *recorder) waitDelivered(t *testing.T, n int, within time.Duration, logs func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for len(r.delivered()) < n {
		if time.Now().After(deadline) {
			_, bad := r.snapshot()
			t.Fatalf("%d of %d messages delivered after %v (bad signatures: %q)\n%.4000s", len(r.delivered()), n, within, bad, logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// seedWebhookTenant creates reseller acme with a test-mode API key that
// may create sessions, through an app on the database (as the admin CLI
// would), and returns the key.
func seedWebhookTenant(t *testing.T, dsn string) string {
	t.Helper()
	a := openApp(t, dsn)
	defer a.Close()
	sys := verigate.WithPrincipal(context.Background(), verigate.System)
	if _, err := a.Access.CreateOrganization(sys, access.OrgInput{Kind: verigate.OrgReseller, Key: "acme", Name: "Acme"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Access.CreateUser(sys, access.UserInput{OrgKey: "acme", Email: "svc@acme.test", Username: "svc",
		Password: "service password", Roles: []string{verigate.RoleOwner}, ServiceAccount: true}); err != nil {
		t.Fatal(err)
	}
	key, _, err := a.Access.CreateAPIKey(sys, access.APIKeyInput{OrgKey: "acme", UserEmail: "svc@acme.test",
		Scopes: []string{"verifications:create"}, Mode: verigate.ModeTest,
		RateLimit: &verigate.RateLimitPolicy{TTL: time.Minute, Limit: 1_000_000, BlockDuration: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// createEndpoint runs `verigate admin webhook create` on the database
// for acme's sessions, and returns the endpoint's id and secret.
func createEndpoint(t *testing.T, dataDir string, env []string, url string) (id string, secret []byte) {
	t.Helper()
	c := startChild(t, dataDir, env, "admin", "webhook", "create", "--org", "acme", "--mode", "test",
		"--events", "verification.created", "--url", url, "--json")
	out, _ := io.ReadAll(c.stdout)
	if code := c.wait(t); code != 0 {
		t.Fatalf("admin webhook create: exit %d\n%s", code, c.logs())
	}
	var got struct{ ID, Secret string }
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("admin webhook create printed %q: %v", out, err)
	}
	key, err := webhook.ParseSecret(got.Secret)
	if err != nil {
		t.Fatal(err)
	}
	return got.ID, key
}

// createSessions creates n sessions over HTTP, spread over bases, from
// a few clients at once; each commits a verification.created event.
func createSessions(t *testing.T, bases []string, apiKey string, n int) {
	t.Helper()
	body := []byte(`{"params":{"expiryDate":"` + time.Now().Add(48*time.Hour).UTC().Format(time.RFC3339) + `"}}`)
	client := &http.Client{Timeout: 30 * time.Second}
	next := make(chan int)
	go func() {
		for i := range n {
			next <- i
		}
		close(next)
	}()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				req, _ := http.NewRequest("POST", bases[i%len(bases)]+"/partner/session", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("x-api-key", apiKey)
				resp, err := client.Do(req)
				if err != nil {
					errs <- err
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 201 {
					errs <- fmt.Errorf("create session: %d %s", resp.StatusCode, b)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// metric reads one sample of the server's /metrics (0 when absent).
func metric(t *testing.T, base, sample string) float64 {
	t.Helper()
	_, body := get(t, base+"/metrics")
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(sample) + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

// TestWebhookCrash: events committed and queued for an endpoint, the
// server killed (SIGKILL) before it delivers them, restarted on the same
// database → every event is delivered, in order, and no attempt is made
// twice: each webhook-id reaches the receiver once per attempt the
// delivery log records.
func TestWebhookCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out a Retry-After")
	}
	const events = 50
	const hold = 8 // seconds the receiver asks the first attempt to wait
	dir := t.TempDir()
	dsn := dir + "/verigate.db"
	key := seedWebhookTenant(t, dsn)
	rv := newRecorder(t)
	// The first request is answered 429 with Retry-After: the endpoint's
	// queue waits behind its head for that long, every message committed
	// and none in flight: the window the server is killed in.
	var firstAt time.Time
	rv.respond = func(n int) (int, http.Header) {
		if n == 1 {
			firstAt = time.Now()
			return 429, http.Header{"Retry-After": {strconv.Itoa(hold)}}
		}
		return 204, nil
	}
	c := startChild(t, dir, webhookEnv, "serve")
	base := c.base(t)
	endpoint, secret := createEndpoint(t, dir, webhookEnv, rv.srv.URL+"/hooks")
	rv.mu.Lock()
	rv.secret = secret
	rv.mu.Unlock()

	createSessions(t, []string{base}, key, events)
	// The first attempt is recorded, every event is queued for the endpoint.
	deadline := time.Now().Add(hold * time.Second / 2)
	for metric(t, base, `verigate_webhook_attempts_total{outcome="failed_retrying"}`) < 1 ||
		metric(t, base, "verigate_webhook_queue_depth") < events {
		if time.Now().After(deadline) {
			t.Fatalf("the events were not all queued behind the first attempt in %v\n%s", hold*time.Second/2, c.logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.cmd.Process.Kill() // SIGKILL
	c.wait(t)
	rv.mu.Lock()
	if len(rv.arrivals) != 1 || time.Since(firstAt) >= hold*time.Second {
		t.Fatalf("before the kill: %d requests, %v after the first; the window was missed", len(rv.arrivals), time.Since(firstAt))
	}
	rv.mu.Unlock()

	c2 := startChild(t, dir, webhookEnv, "serve")
	c2.base(t)
	rv.waitDelivered(t, events, 30*time.Second, c2.logs)
	time.Sleep(500 * time.Millisecond) // anything sent twice would show by now
	c2.cmd.Process.Signal(syscall.SIGTERM)
	c2.wait(t)

	arrivals, bad := rv.snapshot()
	if len(bad) > 0 {
		t.Fatalf("signatures that did not verify: %q", bad)
	}
	ids := rv.delivered()
	if len(ids) != events || !slices.IsSorted(ids) {
		t.Fatalf("delivered %d messages (want %d), in order: %v", len(ids), events, slices.IsSorted(ids))
	}
	perID := map[string]int{}
	for _, a := range arrivals {
		perID[a.id]++
	}
	// The delivery log agrees: one attempt per request received.
	db, err := sqlstore.Open(context.Background(), dsn, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	msgs, err := db.ListWebhookMessages(context.Background(), verigate.WebhookMessageFilter{EndpointID: endpoint, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != events {
		t.Fatalf("%d messages in the log, want %d", len(msgs), events)
	}
	for _, m := range msgs {
		want := 1
		if m.ID == arrivals[0].id {
			want = 2 // the 429, then the delivery
		}
		if m.Status != verigate.MessageDelivered || m.Attempts != want || perID[m.ID] != want {
			t.Fatalf("message %s: %s after %d attempts, received %d times; want delivered after %d", m.ID, m.Status, m.Attempts, perID[m.ID], want)
		}
	}
	t.Logf("%d events committed and queued, SIGKILL, restart: all delivered once, in order", events)
}

// TestWebhookReplicas: two server processes on one PostgreSQL deliver a
// burst of 2,000 events to one receiver: every event arrives, and none
// twice (the receiver answers 2xx to every first try).
func TestWebhookReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("two servers and 2,000 sessions")
	}
	const events = 2000
	dsn := storetest.DSN(t, sqlstore.Postgres)
	key := seedWebhookTenant(t, dsn)
	rv := newRecorder(t)
	env := append([]string{"VERIGATE_DATABASE_URL=" + dsn}, webhookEnv...)
	_, secret := createEndpoint(t, t.TempDir(), env, rv.srv.URL+"/hooks")
	rv.secret = secret
	one := startChild(t, t.TempDir(), env, "serve")
	two := startChild(t, t.TempDir(), env, "serve")
	bases := []string{one.base(t), two.base(t)}
	start := time.Now()
	createSessions(t, bases, key, events)
	rv.waitDelivered(t, events, 90*time.Second, func() string { return one.logs() + two.logs() })
	elapsed := time.Since(start)
	time.Sleep(time.Second) // anything sent twice would show by now

	arrivals, bad := rv.snapshot()
	if len(bad) > 0 {
		t.Fatalf("signatures that did not verify: %q", bad[:min(len(bad), 5)])
	}
	seen := map[string]int{}
	for _, a := range arrivals {
		if seen[a.id]++; seen[a.id] > 1 {
			t.Fatalf("message %s received twice", a.id)
		}
	}
	if len(arrivals) != events || len(seen) != events {
		t.Fatalf("%d requests for %d messages, want %d each", len(arrivals), len(seen), events)
	}
	byServer := []float64{}
	for _, b := range bases {
		byServer = append(byServer, metric(t, b, `verigate_webhook_attempts_total{outcome="delivered"}`))
	}
	if byServer[0]+byServer[1] != events {
		t.Fatalf("the servers count %v deliveries, want %d in all", byServer, events)
	}
	t.Logf("%d events from session creates on two servers delivered once each in %v (deliveries by server: %v)",
		events, elapsed.Round(time.Millisecond), byServer)
}
