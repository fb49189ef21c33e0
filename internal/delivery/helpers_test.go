package delivery_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/delivery"
	"github.com/verigate/verigate/internal/sqlstore"
	"github.com/verigate/verigate/internal/webhook"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// clock is a fake clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func (c *clock) Set(t time.Time)         { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// urls refuses any URL containing "private", as the SSRF guard would.
type urls struct{}

func (urls) CheckURL(_ context.Context, raw string, live bool) error {
	if strings.Contains(raw, "private") {
		return errors.New("webhook: the URL's host resolves to a private address")
	}
	if live && !strings.HasPrefix(raw, "https://") {
		return errors.New("webhook: live endpoints need https")
	}
	return nil
}

// sent is one attempt the fake sender saw.
type sent struct {
	At       time.Time
	Delivery webhook.Delivery
}

// sender is a fake receiver: it records every attempt and answers with
// respond (200 when nil).
type sender struct {
	mu      sync.Mutex
	clock   *clock
	got     []sent
	respond func(d webhook.Delivery) webhook.Result
}

func (s *sender) Send(_ context.Context, d webhook.Delivery) webhook.Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, sent{At: s.clock.Now(), Delivery: d})
	if s.respond == nil {
		return webhook.Result{Status: 200, Latency: time.Millisecond, Body: "ok"}
	}
	return s.respond(d)
}

func (s *sender) attempts() []sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sent(nil), s.got...)
}

func (s *sender) to(url string) []sent {
	var out []sent
	for _, a := range s.attempts() {
		if a.Delivery.URL == url {
			out = append(out, a)
		}
	}
	return out
}

func status(code int) func(webhook.Delivery) webhook.Result {
	return func(webhook.Delivery) webhook.Result {
		return webhook.Result{Status: code, Body: http.StatusText(code)}
	}
}

// env is a delivery service and worker on a real store with a fake clock
// and a fake receiver.
type env struct {
	db     *sqlstore.DB
	clock  *clock
	svc    *delivery.Service
	worker *delivery.Worker
	sender *sender
	// admin acts for reseller r1 (and so its institutions i1, i2);
	// rival for reseller r2.
	admin, inst, rival context.Context
}

func principal(org string, orgs ...string) context.Context {
	return verigate.WithPrincipal(context.Background(), &verigate.Principal{Kind: verigate.PrincipalUser, ID: "u-" + org,
		UserID: "u-" + org, OrgID: org, Orgs: append([]string{org}, orgs...), Mode: verigate.ModeLive,
		Permissions: []verigate.Permission{"webhooks.create", "webhooks.read", "webhooks.update", "webhooks.delete"}})
}

func newEnv(t testing.TB, db *sqlstore.DB, opts delivery.Options) *env {
	t.Helper()
	ctx := context.Background()
	for _, o := range []struct{ id, kind, parent string }{{"p1", "platform", ""}, {"r1", "reseller", "p1"},
		{"i1", "institution", "r1"}, {"i2", "institution", "r1"}, {"r2", "reseller", "p1"}} {
		if err := db.CreateOrganization(ctx, &verigate.Organization{ID: o.id, Kind: verigate.OrgKind(o.kind), Key: "key-" + o.id,
			Name: o.id, ParentID: o.parent, Status: verigate.StatusActive, CreatedAt: t0, UpdatedAt: t0},
			verigate.AuditEvent{At: t0, Action: "organization.create", Outcome: "success"}); err != nil {
			t.Fatal(err)
		}
	}
	clk := &clock{t: t0}
	svc := delivery.New(db, strings.Repeat("k", 32), urls{}, opts)
	svc.Now = clk.Now
	snd := &sender{clock: clk}
	w := delivery.NewWorker(svc, snd, delivery.WorkerOptions{Jitter: func() float64 { return 0.5 }, Sleep: func(context.Context, time.Duration) {}})
	return &env{db: db, clock: clk, svc: svc, worker: w, sender: snd,
		admin: principal("r1", "i1", "i2"), inst: principal("i1"), rival: principal("r2")}
}

// emit writes an event as a change's transaction would.
func (e *env) emit(t testing.TB, org string, typ verigate.EventType, subject string) {
	t.Helper()
	emitAt(t, e.db, org, typ, subject, e.clock.Now())
}

func emitAt(t testing.TB, db *sqlstore.DB, org string, typ verigate.EventType, subject string, at time.Time) {
	t.Helper()
	for name, p := range db.Pools() {
		if name == "read" {
			continue
		}
		if _, err := p.Exec(`INSERT INTO events (org_id, mode, type, subject, payload, created_at) VALUES ($1, 'live', $2, $3, $4, $5)`,
			org, string(typ), subject, `{"subject":"`+subject+`"}`, at.UnixMilli()); err != nil {
			t.Fatal(err)
		}
		return
	}
}

// create makes an endpoint for ctx's principal.
func (e *env) create(t testing.TB, ctx context.Context, in delivery.EndpointInput) *verigate.WebhookEndpointSecret {
	t.Helper()
	if in.URL == "" {
		in.URL = "https://hooks.example/" + in.OrgID
	}
	got, err := e.svc.Create(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// work runs one round of the worker.
func (e *env) work(t testing.TB) int {
	t.Helper()
	n, err := e.worker.Work(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func code(t testing.TB, err error, want string) {
	t.Helper()
	if got := verigate.ErrorCode(err); got != want {
		t.Fatalf("error code = %q (%v), want %q", got, err, want)
	}
}

func field(t testing.TB, err error, name string) {
	t.Helper()
	var ve *verigate.Error
	if !errors.As(err, &ve) || ve.Code != verigate.EINVALID || ve.Fields[name] == "" {
		t.Fatalf("want EINVALID naming %s, got %v", name, err)
	}
}
