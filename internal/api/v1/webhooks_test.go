package v1_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/app/apptest"
	"github.com/verigate/verigate/internal/delivery"
	"github.com/verigate/verigate/internal/webhook"
)

var webhookScopes = []string{"webhooks:read", "webhooks:write", "events:read", "verifications:create"}

// receiver is a fake receiver for the delivery worker: it answers with
// status (200 unless set) and keeps what it was sent.
type receiver struct {
	mu     sync.Mutex
	status int
	got    []webhook.Delivery
}

func (rc *receiver) Send(_ context.Context, d webhook.Delivery) webhook.Result {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.got = append(rc.got, d)
	if rc.status == 0 {
		return webhook.Result{Status: 200, Latency: 3 * time.Millisecond, Body: "ok"}
	}
	return webhook.Result{Status: rc.status, Latency: 3 * time.Millisecond, Body: "nope"}
}

type hooks struct {
	e    *apptest.Env
	key  string
	rc   *receiver
	work *delivery.Worker
}

func newHooks(t *testing.T, e *apptest.Env) *hooks {
	e.SeedReseller("acme", "acme-cu")
	rc := &receiver{}
	return &hooks{e: e, key: makeKey(t, e, "acme", access.APIKeyInput{Scopes: webhookScopes}), rc: rc,
		work: delivery.NewWorker(e.App.Webhooks, rc, delivery.WorkerOptions{Jitter: func() float64 { return 0 }, Sleep: func(context.Context, time.Duration) {}})}
}

func (h *hooks) do(method, path string, body any, key ...string) *apptest.Response {
	h.e.T.Helper()
	k := h.key
	if len(key) > 0 {
		k = key[0]
	}
	return h.e.Do(method, path, body, "Authorization", "Api-Key "+k)
}

func (h *hooks) create(t *testing.T, body map[string]any) map[string]any {
	t.Helper()
	r := h.do("POST", "/v1/webhook-endpoints", body)
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	return r.JSON(t)
}

func (h *hooks) deliver(t *testing.T) {
	t.Helper()
	if _, err := h.work.Work(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestWebhookEndpoints walks every /v1 webhook route: create (secret once),
// list, get, update, rotate, test-fire, the delivery log, redeliver,
// replay, delete, and the event stream.
func TestWebhookEndpoints(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		h := newHooks(t, e)
		ep := h.create(t, map[string]any{"url": "https://hooks.example.com/a", "description": "ours", "event_types": []string{"verification.created"},
			"rate_limit": 5, "auth": map[string]any{"scheme": "Bearer", "token": "tok-secret-123"}})
		id, secret := ep["id"].(string), ep["secret"].(string)
		if !strings.HasPrefix(secret, "whsec_") || ep["url"] != "https://hooks.example.com/a" || ep["enabled"] != true ||
			ep["flavour"] != "standard" || fmt.Sprint(ep["auth"]) != "map[scheme:Bearer]" || ep["rate_limit"] != 5.0 {
			t.Fatalf("created: %v", ep)
		}
		seen := []string{} // every answer after create: none may show the secret or the token
		keep := func(r *apptest.Response) *apptest.Response { seen = append(seen, string(r.Body)); return r }
		list := keep(h.do("GET", "/v1/webhook-endpoints", nil)).JSON(t)
		if eps := list["webhook_endpoints"].([]any); len(eps) != 1 || eps[0].(map[string]any)["id"] != id || list["next_after"] != nil {
			t.Fatalf("list: %v", list)
		}
		if r := keep(h.do("GET", "/v1/webhook-endpoints/"+id, nil)); r.Status != 200 || r.JSON(t)["description"] != "ours" {
			t.Fatalf("get: %d %s", r.Status, r.Body)
		}
		r := keep(h.do("PATCH", "/v1/webhook-endpoints/"+id, map[string]any{"description": "changed", "event_types": []string{}, "auth": map[string]any{"scheme": "none"}}))
		if j := r.JSON(t); r.Status != 200 || j["description"] != "changed" || j["auth"] != nil || len(j["event_types"].([]any)) != 0 {
			t.Fatalf("patch: %d %s", r.Status, r.Body)
		}

		// An event of the organization is delivered, signed with the secret.
		if r := h.e.Do("POST", "/partner/session", map[string]any{"params": map[string]any{"expiryDate": e.Clock.Now().Add(48 * time.Hour).Format(time.RFC3339)}}, "x-api-key", h.key); r.Status != 201 {
			t.Fatalf("session: %d %s", r.Status, r.Body)
		}
		h.deliver(t)
		if len(h.rc.got) != 1 || !strings.Contains(string(h.rc.got[0].Body), `"verification.created"`) {
			t.Fatalf("delivered: %v", h.rc.got)
		}
		msgs := keep(h.do("GET", "/v1/webhook-endpoints/"+id+"/messages", nil)).JSON(t)["messages"].([]any)
		if len(msgs) != 1 || msgs[0].(map[string]any)["status"] != "delivered" {
			t.Fatalf("messages: %v", msgs)
		}
		msg := msgs[0].(map[string]any)["id"].(string)
		detail := keep(h.do("GET", "/v1/webhook-endpoints/"+id+"/messages/"+msg, nil)).JSON(t)
		attempts := detail["attempts"].([]any)
		if len(attempts) != 1 || attempts[0].(map[string]any)["status_code"] != 200.0 || attempts[0].(map[string]any)["trigger"] != "scheduled" {
			t.Fatalf("message detail: %v", detail)
		}

		// Redeliver, then test-fire; the log shows both.
		if r := keep(h.do("POST", "/v1/webhook-endpoints/"+id+"/messages/"+msg+"/redeliver", nil)); r.Status != 202 || r.JSON(t)["status"] != "pending" {
			t.Fatalf("redeliver: %d %s", r.Status, r.Body)
		}
		h.deliver(t)
		r = keep(h.do("POST", "/v1/webhook-endpoints/"+id+"/test", map[string]any{"event_type": "verification.completed"}))
		if j := r.JSON(t); r.Status != 202 || j["event_type"] != "verification.completed" || j["event_id"] != nil {
			t.Fatalf("test: %d %s", r.Status, r.Body)
		}
		if r := keep(h.do("POST", "/v1/webhook-endpoints/"+id+"/test", nil)); r.Status != 202 || r.JSON(t)["event_type"] != "webhook.test" {
			t.Fatalf("test without a body: %d %s", r.Status, r.Body)
		}
		h.deliver(t)
		if len(h.rc.got) != 4 {
			t.Fatalf("%d deliveries, want 4", len(h.rc.got))
		}
		page := keep(h.do("GET", "/v1/webhook-endpoints/"+id+"/messages?limit=2", nil)).JSON(t)
		older := keep(h.do("GET", "/v1/webhook-endpoints/"+id+"/messages?limit=2&before="+page["next_before"].(string), nil)).JSON(t)
		if len(page["messages"].([]any)) != 2 || len(older["messages"].([]any)) != 1 || older["messages"].([]any)[0].(map[string]any)["id"] != msg {
			t.Fatalf("pages: %v then %v", page, older)
		}
		if got := keep(h.do("GET", "/v1/webhook-endpoints/"+id+"/messages?event_type=webhook.test&status=delivered", nil)).JSON(t)["messages"].([]any); len(got) != 1 {
			t.Fatalf("filtered: %v", got)
		}
		since := url.QueryEscape(e.Clock.Now().Add(time.Minute).Format(time.RFC3339))
		if got := keep(h.do("GET", "/v1/webhook-endpoints/"+id+"/messages?since="+since, nil)).JSON(t)["messages"].([]any); len(got) != 0 {
			t.Fatalf("since the future: %v", got)
		}
		r = keep(h.do("POST", "/v1/webhook-endpoints/"+id+"/replay", map[string]any{"since": e.Clock.Now().Add(-time.Hour).Format(time.RFC3339)}))
		if r.Status != 202 || r.JSON(t)["queued"] != 3.0 {
			t.Fatalf("replay: %d %s", r.Status, r.Body)
		}
		if r := keep(h.do("POST", "/v1/webhook-endpoints/"+id+"/replay", map[string]any{"since": e.Clock.Now().Add(-time.Hour).Format(time.RFC3339), "only_failed": true})); r.Status != 202 || r.JSON(t)["queued"] != 0.0 {
			t.Fatalf("replay of the failed: %d %s", r.Status, r.Body)
		}

		// Rotation shows a new secret once.
		r = h.do("POST", "/v1/webhook-endpoints/"+id+"/rotate-secret", nil)
		rotated, _ := r.JSON(t)["secret"].(string)
		if r.Status != 200 || !strings.HasPrefix(rotated, "whsec_") || rotated == secret {
			t.Fatalf("rotate: %d %s", r.Status, r.Body)
		}
		keep(h.do("GET", "/v1/webhook-endpoints/"+id, nil))

		// The event stream: the organization's events, without PII.
		evs := keep(h.do("GET", "/v1/events", nil)).JSON(t)
		list0 := evs["events"].([]any)
		if len(list0) == 0 || list0[0].(map[string]any)["type"] != "verification.created" || evs["next_after"] != nil {
			t.Fatalf("events: %v", evs)
		}
		first := int64(list0[0].(map[string]any)["id"].(float64))
		if got := keep(h.do("GET", fmt.Sprintf("/v1/events?after=%d&type=verification.created", first), nil)).JSON(t)["events"].([]any); len(got) != 0 {
			t.Fatalf("events after the first: %v", got)
		}

		if r := h.do("DELETE", "/v1/webhook-endpoints/"+id, nil); r.Status != 204 {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		wantError(t, h.do("GET", "/v1/webhook-endpoints/"+id, nil), 404, "NOT_FOUND")
		for _, body := range seen {
			if strings.Contains(body, secret) || strings.Contains(body, rotated) || strings.Contains(body, "tok-secret-123") || strings.Contains(body, `"secret"`) {
				t.Fatalf("an answer shows a secret or token: %s", body)
			}
		}
	})
}

// TestWebhookIdempotency: a repeated create with the same Idempotency-Key
// makes one endpoint and replays the first answer.
func TestWebhookIdempotency(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		h := newHooks(t, e)
		body := map[string]any{"url": "https://hooks.example.com/once"}
		var ids []string
		for range 2 {
			r := e.Do("POST", "/v1/webhook-endpoints", body, "Authorization", "Api-Key "+h.key, "Idempotency-Key", "create-once")
			if r.Status != 201 {
				t.Fatalf("create: %d %s", r.Status, r.Body)
			}
			ids = append(ids, r.JSON(t)["id"].(string))
		}
		if ids[0] != ids[1] {
			t.Fatalf("two endpoints for one key: %v", ids)
		}
		if n := len(h.do("GET", "/v1/webhook-endpoints", nil).JSON(t)["webhook_endpoints"].([]any)); n != 1 {
			t.Fatalf("%d endpoints, want 1", n)
		}
		wantError(t, e.Do("POST", "/v1/webhook-endpoints", map[string]any{"url": "https://hooks.example.com/other"}, "Authorization", "Api-Key "+h.key, "Idempotency-Key", "create-once"), 400, "VALIDATION_ERROR")
	})
}
