package v1_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/app/apptest"
)

// wantField is wantError for a 400 that names field in its details.
func wantField(t *testing.T, r *apptest.Response, field string) {
	t.Helper()
	wantError(t, r, 400, "VALIDATION_ERROR")
	var body struct {
		Error struct {
			Details []struct{ Field, Message string }
		}
	}
	r.Decode(t, &body)
	for _, d := range body.Error.Details {
		if d.Field == field && d.Message != "" {
			return
		}
	}
	t.Fatalf("400 does not name %s: %s", field, r.Body)
}

// TestWebhookBadInput: bad input to every webhook route is a 400 in the
// /v1 shape naming the field (or the body's fault), never a 500, and
// writes nothing.
func TestWebhookBadInput(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		h := newHooks(t, e)
		e.SeedReseller("bravo", "bravo-cu")
		bravo, _ := e.App.Access.Organization(e.System, "bravo")
		const ep = "/v1/webhook-endpoints"
		raw := func(method, path, body string) *apptest.Response {
			return e.Do(method, path, body, "Authorization", "Api-Key "+h.key, "Content-Type", "application/json")
		}
		for _, c := range []struct {
			name, body, field string
		}{
			{"malformed JSON", `{"url":`, ""},
			{"not an object", `[1]`, ""},
			{"trailing data", `{"url":"https://a.example"} {}`, ""},
			{"NUL in a string", `{"url":"https://a.example/\u0000"}`, ""},
			{"not UTF-8", "{\"url\":\"https://a.example/\xff\"}", ""},
			{"null url", `{"url":null}`, "url"},
			{"no url", `{"description":"x"}`, "url"},
			{"unknown field", `{"url":"https://a.example","secret":"mine"}`, "secret"},
			{"rate_limit a string", `{"url":"https://a.example","rate_limit":"5"}`, "rate_limit"},
			{"rate_limit too high", `{"url":"https://a.example","rate_limit":1001}`, "rate_limit"},
			{"event_types a string", `{"url":"https://a.example","event_types":"step.updated"}`, "event_types"},
			{"unknown event type", `{"url":"https://a.example","event_types":["step.nope"]}`, "event_types"},
			{"event type twice", `{"url":"https://a.example","event_types":["step.updated","step.updated"]}`, "event_types"},
			{"not a URL", `{"url":"hooks dot example"}`, "url"},
			{"ftp URL", `{"url":"ftp://hooks.example/"}`, "url"},
			{"URL with a password", `{"url":"https://u:p@hooks.example/"}`, "url"},
			{"URL too long", `{"url":"https://a.example/` + strings.Repeat("x", 2048) + `"}`, "url"},
			{"description too long", `{"url":"https://a.example","description":"` + strings.Repeat("é", 501) + `"}`, "description"},
			{"control characters", `{"url":"https://a.example","description":"a\u0007b"}`, "description"},
			{"unknown flavour", `{"url":"https://a.example","flavour":"svix"}`, "flavour"},
			{"auth without token", `{"url":"https://a.example","auth":{"scheme":"Bearer"}}`, "auth.token"},
			{"auth scheme Basic", `{"url":"https://a.example","auth":{"scheme":"Basic","token":"x"}}`, "auth.scheme"},
			{"auth scheme none on create", `{"url":"https://a.example","auth":{"scheme":"none"}}`, "auth.scheme"},
			{"auth token with a space", `{"url":"https://a.example","auth":{"scheme":"Bearer","token":"a b"}}`, "auth.token"},
			{"auth token too long", `{"url":"https://a.example","auth":{"scheme":"Api-Key","token":"` + strings.Repeat("t", 513) + `"}}`, "auth.token"},
			{"foreign organization", `{"url":"https://a.example","organization_id":"` + bravo.ID + `"}`, "organization_id"},
			{"missing organization", `{"url":"https://a.example","organization_id":"nope"}`, "organization_id"},
		} {
			t.Run("create: "+c.name, func(t *testing.T) {
				r := raw("POST", ep, c.body)
				if c.field == "" {
					wantError(t, r, 400, "VALIDATION_ERROR")
				} else {
					wantField(t, r, c.field)
				}
			})
		}
		if n := len(h.do("GET", ep, nil).JSON(t)["webhook_endpoints"].([]any)); n != 0 {
			t.Fatalf("bad input wrote %d endpoints", n)
		}
		wantError(t, e.Do("POST", ep, `url=x`, "Authorization", "Api-Key "+h.key, "Content-Type", "application/x-www-form-urlencoded"), 415, "UNSUPPORTED_MEDIA_TYPE")

		id := h.create(t, map[string]any{"url": "https://hooks.example.com/a"})["id"].(string)
		item := ep + "/" + id
		for _, c := range []struct {
			name, method, path, body, field string
		}{
			{"empty patch", "PATCH", item, `{}`, ""},
			{"patch unknown field", "PATCH", item, `{"organization_id":"x"}`, "organization_id"},
			{"patch bad URL", "PATCH", item, `{"url":"gopher://x"}`, "url"},
			{"patch null", "PATCH", item, `{"description":null}`, "description"},
			{"patch auth none with token", "PATCH", item, `{"auth":{"scheme":"none","token":"x"}}`, "auth.token"},
			{"patch bad event type", "PATCH", item, `{"event_types":["nope"]}`, "event_types"},
			{"non-UUID id", "GET", ep + "/12345", ``, "endpointId"},
			{"non-UUID message id", "GET", item + "/messages/12345", ``, "messageId"},
			{"bad list cursor", "GET", ep + "?after=page-2", ``, "after"},
			{"limit 0", "GET", ep + "?limit=0", ``, "limit"},
			{"limit 101", "GET", item + "/messages?limit=101", ``, "limit"},
			{"bad message cursor", "GET", item + "/messages?before=xyz", ``, "before"},
			{"bad status", "GET", item + "/messages?status=lost", ``, "status"},
			{"bad event type filter", "GET", item + "/messages?event_type=nope", ``, "event_type"},
			{"bad since", "GET", item + "/messages?since=yesterday", ``, "since"},
			{"until before since", "GET", item + "/messages?since=2026-11-22T10:00:00Z&until=2026-11-22T09:00:00Z", ``, "until"},
			{"test of an unknown type", "POST", item + "/test", `{"event_type":"nope"}`, "event_type"},
			{"test unknown field", "POST", item + "/test", `{"type":"webhook.test"}`, "type"},
			{"replay without since", "POST", item + "/replay", `{"only_failed":true}`, "since"},
			{"replay since not a time", "POST", item + "/replay", `{"since":"last week"}`, ""},
			{"replay since in the future", "POST", item + "/replay", `{"since":"` + e.Clock.Now().Add(time.Hour).Format(time.RFC3339) + `"}`, "since"},
			{"events bad cursor", "GET", "/v1/events?after=abc", ``, "after"},
			{"events bad type", "GET", "/v1/events?type=nope", ``, "type"},
			{"events limit 1000", "GET", "/v1/events?limit=1000", ``, "limit"},
		} {
			t.Run(c.name, func(t *testing.T) {
				var body any
				if c.body != "" {
					body = c.body
				}
				r := e.Do(c.method, c.path, body, "Authorization", "Api-Key "+h.key, "Content-Type", "application/json")
				if c.field == "" {
					wantError(t, r, 400, "VALIDATION_ERROR")
				} else {
					wantField(t, r, c.field)
				}
			})
		}
		got := h.do("GET", item, nil).JSON(t)
		if got["description"] != "" || got["auth"] != nil || got["url"] != "https://hooks.example.com/a" {
			t.Fatalf("a refused patch changed the endpoint: %v", got)
		}
		if n := len(h.do("GET", item+"/messages", nil).JSON(t)["messages"].([]any)); n != 0 {
			t.Fatalf("a refused test wrote %d messages", n)
		}
		if r := e.Raw(httptest.NewRequest("DELETE", ep, nil)); r.Status != 405 || r.Header.Get("Allow") != "GET, POST" || !strings.Contains(string(r.Body), "METHOD_NOT_ALLOWED") {
			t.Fatalf("DELETE %s: %d %q %s", ep, r.Status, r.Header.Get("Allow"), r.Body)
		}
		if strings.Contains(e.Logs.String(), `"level":"ERROR"`) {
			t.Fatalf("bad input logged an error:\n%s", e.Logs)
		}
	})
}

// TestWebhookSSRF: with private targets not allowed, every private,
// loopback, link-local, CGNAT and metadata address is refused, on create
// and on update.
func TestWebhookSSRF(t *testing.T) {
	apptest.EachWithEnv(t, map[string]string{"VERIGATE_WEBHOOK_ALLOW_PRIVATE": "false"}, func(t *testing.T, e *apptest.Env) {
		h := newHooks(t, e)
		for _, u := range []string{"http://127.0.0.1/", "http://10.0.0.1/", "http://169.254.169.254/latest", "http://[::1]/", "http://100.64.0.1/",
			"http://localhost:8080/", "https://[::ffff:10.0.0.1]/"} {
			wantField(t, h.do("POST", "/v1/webhook-endpoints", map[string]any{"url": u}), "url")
		}
		id := h.create(t, map[string]any{"url": "https://93.184.216.34/hook"})["id"].(string)
		wantField(t, h.do("PATCH", "/v1/webhook-endpoints/"+id, map[string]any{"url": "http://10.0.0.1/"}), "url")
		if n := len(h.do("GET", "/v1/webhook-endpoints", nil).JSON(t)["webhook_endpoints"].([]any)); n != 1 {
			t.Fatalf("%d endpoints, want only the public one", n)
		}
		// A live key needs https.
		live := makeKey(t, e, "acme", access.APIKeyInput{Scopes: webhookScopes, Mode: verigate.ModeLive})
		wantField(t, h.do("POST", "/v1/webhook-endpoints", map[string]any{"url": "http://93.184.216.34/hook"}, live), "url")
	})
}

// TestWebhookTenancyAndScopes: another tenant's endpoint and messages —
// and the other mode's — answer exactly as missing ones; a key without
// webhooks:write cannot change anything, one without webhooks:read
// cannot look, one without events:read cannot list events.
func TestWebhookTenancyAndScopes(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		h := newHooks(t, e)
		id := h.create(t, map[string]any{"url": "https://hooks.example.com/a"})["id"].(string)
		other := h.create(t, map[string]any{"url": "https://hooks.example.com/b"})["id"].(string)
		msg := h.do("POST", "/v1/webhook-endpoints/"+id+"/test", nil).JSON(t)["id"].(string)
		e.SeedReseller("bravo", "bravo-cu")
		foreign := makeKey(t, e, "bravo", access.APIKeyInput{Scopes: webhookScopes})
		live := makeKey(t, e, "acme", access.APIKeyInput{Scopes: webhookScopes, Mode: verigate.ModeLive})
		const missing = "00000000-0000-7000-8000-000000000000"
		since := `{"since":"` + e.Clock.Now().Add(-time.Hour).Format(time.RFC3339) + `"}`
		routes := []struct{ method, path, body string }{
			{"GET", "/v1/webhook-endpoints/%s", ""},
			{"PATCH", "/v1/webhook-endpoints/%s", `{"enabled":false}`},
			{"DELETE", "/v1/webhook-endpoints/%s", ""},
			{"POST", "/v1/webhook-endpoints/%s/rotate-secret", ""},
			{"POST", "/v1/webhook-endpoints/%s/test", ""},
			{"GET", "/v1/webhook-endpoints/%s/messages", ""},
			{"GET", "/v1/webhook-endpoints/%s/messages/" + msg, ""},
			{"POST", "/v1/webhook-endpoints/%s/messages/" + msg + "/redeliver", ""},
			{"POST", "/v1/webhook-endpoints/%s/replay", since},
		}
		send := func(method, path, body, key string) *apptest.Response {
			var b any
			if body != "" {
				b = body
			}
			return e.Do(method, path, b, "Authorization", "Api-Key "+key, "Content-Type", "application/json")
		}
		for _, rt := range routes {
			want := send(rt.method, strings.Replace(rt.path, "%s", missing, 1), rt.body, h.key)
			wantError(t, want, 404, "NOT_FOUND")
			for name, key := range map[string]string{"foreign": foreign, "other mode": live} {
				got := send(rt.method, strings.Replace(rt.path, "%s", id, 1), rt.body, key)
				if got.Status != want.Status || string(got.Body) != string(want.Body) {
					t.Errorf("%s %s as %s = %d %s, want exactly the missing answer %s", rt.method, rt.path, name, got.Status, got.Body, want.Body)
				}
			}
		}
		// A message under another endpoint of the same tenant is missing too.
		wantError(t, h.do("GET", "/v1/webhook-endpoints/"+other+"/messages/"+msg, nil), 404, "NOT_FOUND")
		if n := len(send("GET", "/v1/webhook-endpoints", "", foreign).JSON(t)["webhook_endpoints"].([]any)); n != 0 {
			t.Fatalf("the foreign key lists %d endpoints", n)
		}

		readOnly := makeKey(t, e, "acme", access.APIKeyInput{Scopes: []string{"webhooks:read"}})
		for _, rt := range routes[1:5] {
			r := send(rt.method, strings.Replace(rt.path, "%s", id, 1), rt.body, readOnly)
			wantError(t, r, 403, "FORBIDDEN")
			if !strings.Contains(string(r.Body), "webhooks:write") {
				t.Errorf("%s %s: 403 does not name webhooks:write: %s", rt.method, rt.path, r.Body)
			}
		}
		wantError(t, h.do("POST", "/v1/webhook-endpoints", map[string]any{"url": "https://hooks.example.com/c"}, readOnly), 403, "FORBIDDEN")
		if r := h.do("GET", "/v1/webhook-endpoints/"+id, nil, readOnly); r.Status != 200 {
			t.Fatalf("read-only key reading: %d %s", r.Status, r.Body)
		}
		wantError(t, h.do("GET", "/v1/events", nil, readOnly), 403, "FORBIDDEN")
		writeOnly := makeKey(t, e, "acme", access.APIKeyInput{Scopes: []string{"webhooks:write"}})
		wantError(t, h.do("GET", "/v1/webhook-endpoints", nil, writeOnly), 403, "FORBIDDEN")
		if r := h.do("POST", "/v1/webhook-endpoints", map[string]any{"url": "https://hooks.example.com/d"}, writeOnly); r.Status != 201 {
			t.Fatalf("webhooks:write creating: %d %s", r.Status, r.Body)
		}
		if r := h.do("GET", "/v1/webhook-endpoints/"+id, nil); r.JSON(t)["enabled"] != true {
			t.Fatalf("a refused change changed the endpoint: %s", r.Body)
		}
	})
}
