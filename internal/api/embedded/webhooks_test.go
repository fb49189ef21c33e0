package embedded_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/app/apptest"
	"github.com/verigate/verigate/internal/delivery"
	"github.com/verigate/verigate/internal/webhook"
)

// okReceiver is a fake receiver that takes everything.
type okReceiver struct {
	mu  sync.Mutex
	got int
}

func (rc *okReceiver) Send(context.Context, webhook.Delivery) webhook.Result {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.got++
	return webhook.Result{Status: 204, Latency: time.Millisecond}
}

// owner signs in acme's owner and returns its Authorization header.
func owner(t *testing.T, e *apptest.Env, org string) []string {
	t.Helper()
	e.SeedReseller(org, org+"-cu")
	return []string{"Authorization", signIn(t, e, person(t, e, org, "olivia-"+org, verigate.RoleOwner))["token"].(string)}
}

// TestWebhooks walks every /webhooks route and /events on the Embedded
// API, with ExactPay's body: one endpoint per URL, secrets only on create
// and rotate.
func TestWebhooks(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		auth := owner(t, e, "acme")
		do := func(method, path string, body any) *apptest.Response { return e.Do(method, path, body, auth...) }
		// ExactPay's body with urls: one endpoint per URL, each with a secret.
		r := do("POST", "/webhooks", map[string]any{"events": []string{"verification.created"}, "event": "step.updated",
			"urls": []string{"https://hooks.example.com/a", "https://hooks.example.com/b"}, "description": "ExactPay style"})
		if r.Status != 201 {
			t.Fatalf("create with urls: %d %s", r.Status, r.Body)
		}
		made := r.JSON(t)["webhooks"].([]any)
		a, b := made[0].(map[string]any), made[1].(map[string]any)
		if len(made) != 2 || a["url"] != "https://hooks.example.com/a" || b["url"] != "https://hooks.example.com/b" ||
			a["secret"] == b["secret"] || !strings.HasPrefix(a["secret"].(string), "whsec_") || fmt.Sprint(a["eventTypes"]) != "[step.updated verification.created]" {
			t.Fatalf("created: %s", r.Body)
		}
		id, secret := a["id"].(string), a["secret"].(string)
		// A single url answers the endpoint itself, with the richer fields.
		r = do("POST", "/webhooks", map[string]any{"url": "https://hooks.example.com/c", "eventTypes": []string{"call.queued"}, "enabled": false,
			"rateLimit": 10, "includeChildren": true, "includePii": true, "flavour": "reconbanker", "auth": map[string]any{"scheme": "Api-Key", "token": "rb-token"}})
		if j := r.JSON(t); r.Status != 201 || j["enabled"] != false || j["flavour"] != "reconbanker" || fmt.Sprint(j["auth"]) != "map[scheme:Api-Key]" ||
			j["includePii"] != true || j["rateLimit"] != 10.0 || j["secret"] == nil {
			t.Fatalf("create with url: %d %s", r.Status, r.Body)
		}
		var seen []string
		keep := func(r *apptest.Response) *apptest.Response { seen = append(seen, string(r.Body)); return r }
		list := keep(do("GET", "/webhooks?limit=2", nil)).JSON(t)
		next := keep(do("GET", "/webhooks?limit=2&after="+list["nextAfter"].(string), nil)).JSON(t)
		if len(list["data"].([]any)) != 2 || len(next["data"].([]any)) != 1 || next["nextAfter"] != nil {
			t.Fatalf("pages: %v then %v", list, next)
		}
		if r := keep(do("GET", "/webhooks/"+id, nil)); r.Status != 200 || r.JSON(t)["description"] != "ExactPay style" {
			t.Fatalf("get: %d %s", r.Status, r.Body)
		}
		if r := keep(do("PATCH", "/webhooks/"+id, map[string]any{"description": "renamed", "eventTypes": []string{}})); r.Status != 200 || r.JSON(t)["description"] != "renamed" {
			t.Fatalf("patch: %d %s", r.Status, r.Body)
		}

		// An event is delivered; the log shows the message and its attempt.
		work := delivery.NewWorker(e.App.Webhooks, &okReceiver{}, delivery.WorkerOptions{Sleep: func(context.Context, time.Duration) {}})
		r = keep(do("POST", "/webhooks/"+id+"/test", map[string]any{"eventType": "verification.completed"}))
		if r.Status != 202 || r.JSON(t)["eventType"] != "verification.completed" {
			t.Fatalf("test: %d %s", r.Status, r.Body)
		}
		msg := r.JSON(t)["id"].(string)
		if _, err := work.Work(context.Background()); err != nil {
			t.Fatal(err)
		}
		msgs := keep(do("GET", "/webhooks/"+id+"/messages?status=delivered&eventType=verification.completed", nil)).JSON(t)["data"].([]any)
		if len(msgs) != 1 || msgs[0].(map[string]any)["id"] != msg {
			t.Fatalf("messages: %v", msgs)
		}
		detail := keep(do("GET", "/webhooks/"+id+"/messages/"+msg, nil)).JSON(t)
		if at := detail["attempts"].([]any); len(at) != 1 || at[0].(map[string]any)["statusCode"] != 204.0 || at[0].(map[string]any)["trigger"] != "test" {
			t.Fatalf("detail: %v", detail)
		}
		if r := keep(do("POST", "/webhooks/"+id+"/messages/"+msg+"/redeliver", nil)); r.Status != 202 || r.JSON(t)["status"] != "pending" {
			t.Fatalf("redeliver: %d %s", r.Status, r.Body)
		}
		wantError(t, do("POST", "/webhooks/"+id+"/messages/"+msg+"/redeliver", nil), 409, "conflict")
		if _, err := work.Work(context.Background()); err != nil {
			t.Fatal(err)
		}
		r = keep(do("POST", "/webhooks/"+id+"/replay", map[string]any{"since": e.Clock.Now().Add(-time.Hour).Format(time.RFC3339), "onlyFailed": false}))
		if r.Status != 202 || r.JSON(t)["queued"] != 1.0 {
			t.Fatalf("replay: %d %s", r.Status, r.Body)
		}
		r = do("POST", "/webhooks/"+id+"/rotate-secret", nil)
		rotated, _ := r.JSON(t)["secret"].(string)
		if r.Status != 200 || rotated == secret || !strings.HasPrefix(rotated, "whsec_") {
			t.Fatalf("rotate: %d %s", r.Status, r.Body)
		}

		// The event stream: a session made through the Partner API is
		// listed, without personal data; a filter and a cursor narrow it.
		key, _, err := e.App.Access.CreateAPIKey(e.System, access.APIKeyInput{OrgKey: "acme", UserEmail: "svc@acme.test",
			Scopes: []string{"verifications:create"}, Mode: verigate.ModeLive})
		if err != nil {
			t.Fatal(err)
		}
		if r := e.Do("POST", "/partner/session", map[string]any{"params": map[string]any{"applicantFirstName": "Ada",
			"expiryDate": e.Clock.Now().Add(48 * time.Hour).Format(time.RFC3339)}}, "x-api-key", key); r.Status != 201 {
			t.Fatalf("session: %d %s", r.Status, r.Body)
		}
		evs := keep(do("GET", "/events?limit=5&type=verification.created", nil)).JSON(t)
		data := evs["data"].([]any)
		if len(data) != 1 || data[0].(map[string]any)["type"] != "verification.created" || strings.Contains(fmt.Sprint(data), "Ada") {
			t.Fatalf("events: %v", evs)
		}
		after := fmt.Sprint(int64(data[0].(map[string]any)["id"].(float64)))
		if got := keep(do("GET", "/events?after="+after, nil)).JSON(t)["data"].([]any); len(got) != 0 {
			t.Fatalf("events after the last: %v", got)
		}
		if r := do("DELETE", "/webhooks/"+id, nil); r.Status != 204 {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		wantError(t, do("GET", "/webhooks/"+id, nil), 404, "not_found")
		for _, body := range seen {
			if strings.Contains(body, `"secret"`) || strings.Contains(body, "rb-token") {
				t.Fatalf("an answer shows a secret or token: %s", body)
			}
		}
	})
}

// TestWebhooksBadInput: bad input is a 400 in ExactPay's error shape
// naming the field in camelCase, and writes nothing; another tenant's
// webhook answers exactly as a missing one; permissions are webhooks.*.
func TestWebhooksBadInput(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		auth := owner(t, e, "acme")
		raw := func(method, path, body string, h []string) *apptest.Response {
			var b any
			if body != "" {
				b = body
			}
			return e.Do(method, path, b, append([]string{"Content-Type", "application/json"}, h...)...)
		}
		for _, c := range []struct{ name, body, names string }{
			{"malformed", `{"url":`, "JSON"},
			{"no url", `{"events":["step.updated"]}`, "url"},
			{"url and urls", `{"url":"https://a.example","urls":["https://b.example"]}`, "urls"},
			{"empty urls", `{"urls":[]}`, "url"},
			{"21 urls", `{"urls":["` + strings.Repeat(`https://a.example","`, 20) + `https://a.example"]}`, "urls"},
			{"second url bad", `{"urls":["https://a.example","ftp://b.example"]}`, "urls[1]"},
			{"unknown event", `{"url":"https://a.example","event":"nope.never"}`, "eventTypes"},
			{"unknown field", `{"url":"https://a.example","secret":"x"}`, "secret"},
			{"wrong type", `{"url":"https://a.example","rateLimit":"fast"}`, "rateLimit"},
			{"rate too high", `{"url":"https://a.example","rateLimit":5000}`, "rateLimit"},
			{"long description", `{"url":"https://a.example","description":"` + strings.Repeat("d", 501) + `"}`, "description"},
			{"auth token missing", `{"url":"https://a.example","auth":{"scheme":"Bearer"}}`, "auth.token"},
			{"NUL", `{"url":"https://a.example","description":"a\u0000"}`, "NUL"},
			{"not UTF-8", "{\"url\":\"https://a.example\",\"description\":\"\xff\"}", "UTF-8"},
			{"foreign account", `{"url":"https://a.example","account":"nope"}`, "account"},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := raw("POST", "/webhooks", c.body, auth)
				wantError(t, r, 400, "validation_error")
				if !strings.Contains(string(r.Body), c.names) {
					t.Fatalf("400 does not name %s: %s", c.names, r.Body)
				}
			})
		}
		if n := len(e.Do("GET", "/webhooks", nil, auth...).JSON(t)["data"].([]any)); n != 0 {
			t.Fatalf("bad input wrote %d webhooks", n)
		}
		id := e.Do("POST", "/webhooks", map[string]any{"url": "https://hooks.example.com/a"}, auth...).JSON(t)["id"].(string)
		for _, c := range []struct{ name, method, path, body, names string }{
			{"empty patch", "PATCH", "/webhooks/" + id, `{}`, "field"},
			{"patch snake_case", "PATCH", "/webhooks/" + id, `{"rate_limit":3}`, "rate_limit"},
			{"bad cursor", "GET", "/webhooks?after=2", ``, "after"},
			{"bad message cursor", "GET", "/webhooks/" + id + "/messages?before=x", ``, "before"},
			{"bad event filter", "GET", "/webhooks/" + id + "/messages?eventType=x", ``, "eventType"},
			{"test bad type", "POST", "/webhooks/" + id + "/test", `{"eventType":"x"}`, "eventType"},
			{"replay no since", "POST", "/webhooks/" + id + "/replay", `{}`, "since"},
			{"events bad after", "GET", "/events?after=-1", ``, "after"},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := raw(c.method, c.path, c.body, auth)
				wantError(t, r, 400, "validation_error")
				if !strings.Contains(string(r.Body), c.names) {
					t.Fatalf("400 does not name %s: %s", c.names, r.Body)
				}
			})
		}

		// Another tenant's webhook and message answer as missing ones.
		msg := e.Do("POST", "/webhooks/"+id+"/test", nil, auth...).JSON(t)["id"].(string)
		rival := owner(t, e, "bravo")
		ids := strings.NewReplacer(id, "ID", missingID, "ID")
		for _, rt := range []struct{ method, path, body string }{
			{"GET", "/webhooks/%s", ""}, {"PATCH", "/webhooks/%s", `{"enabled":false}`}, {"DELETE", "/webhooks/%s", ""},
			{"POST", "/webhooks/%s/rotate-secret", ""}, {"POST", "/webhooks/%s/test", ""}, {"GET", "/webhooks/%s/messages", ""},
			{"GET", "/webhooks/%s/messages/" + msg, ""}, {"POST", "/webhooks/%s/messages/" + msg + "/redeliver", ""},
			{"POST", "/webhooks/%s/replay", `{"since":"2026-11-01T00:00:00Z"}`},
		} {
			foreign := raw(rt.method, strings.Replace(rt.path, "%s", id, 1), rt.body, rival)
			missing := raw(rt.method, strings.Replace(rt.path, "%s", missingID, 1), rt.body, rival)
			if foreign.Status != 404 || missing.Status != 404 || fmt.Sprint(errorFields(t, foreign, ids)) != fmt.Sprint(errorFields(t, missing, ids)) {
				t.Errorf("%s %s: foreign %d %s, missing %d %s", rt.method, rt.path, foreign.Status, foreign.Body, missing.Status, missing.Body)
			}
		}
		if r := e.Do("GET", "/webhooks/"+id, nil, auth...); r.JSON(t)["enabled"] != true {
			t.Fatalf("the rival changed the webhook: %s", r.Body)
		}

		// webhooks.* and events.read: a viewer reads, an operator neither
		// manages webhooks nor reads them, but reads events.
		viewer := []string{"Authorization", signIn(t, e, person(t, e, "acme", "vera", verigate.RoleViewer))["token"].(string)}
		wantError(t, e.Do("POST", "/webhooks", map[string]any{"url": "https://hooks.example.com/v"}, viewer...), 403, "forbidden")
		wantError(t, raw("DELETE", "/webhooks/"+id, "", viewer), 403, "forbidden")
		if r := e.Do("GET", "/webhooks/"+id, nil, viewer...); r.Status != 200 {
			t.Fatalf("viewer reading: %d %s", r.Status, r.Body)
		}
		operator := []string{"Authorization", signIn(t, e, person(t, e, "acme", "otto", verigate.RoleOperator))["token"].(string)}
		wantError(t, e.Do("GET", "/webhooks", nil, operator...), 403, "forbidden")
		if r := e.Do("GET", "/events", nil, operator...); r.Status != 200 {
			t.Fatalf("operator reading events: %d %s", r.Status, r.Body)
		}
	})
}
