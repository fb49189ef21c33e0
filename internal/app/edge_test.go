package app_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/app"
	"github.com/verigate/verigate/internal/app/apptest"
)

var pathParam = regexp.MustCompile(`\{[^}]+\}`)

// TestBadBytes sends every route bytes no store takes — a NUL or bytes
// that are not UTF-8, in the path, the query, a JSON body and a header —
// with valid credentials, on every engine: each must get a 4xx in the
// surface's shape, never a 500 (PostgreSQL refuses such text).
func TestBadBytes(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		k := e.SeedKeys("acme")
		for _, route := range e.App.Server.Routes() {
			method, pattern, _ := strings.Cut(route, " ")
			if slices.Contains([]string{"/healthz", "/readyz", "/metrics", "/docs", "/openapi.json"}, pattern) {
				continue
			}
			// Path and query: refused at every surface's edge. Body and
			// header: refused where they would be read; never a 500.
			var probes, mustRefuse []*http.Request
			for _, bad := range []string{"a%00b", "%ff", "%c3%28"} {
				if strings.Contains(pattern, "{") {
					mustRefuse = append(mustRefuse, httptest.NewRequest(method, pathParam.ReplaceAllString(pattern, bad), nil))
				}
				mustRefuse = append(mustRefuse, httptest.NewRequest(method, pathParam.ReplaceAllString(pattern, "1")+"?search="+bad+"&limit=1", nil))
			}
			if method == "POST" || method == "PUT" {
				for _, body := range []string{`{"core":"a\u0000b","name":"x"}`, "{\"name\":\"a\xffb\"}", `{"params":{"metadata":{"k":"\u0000"}}}`} {
					req := httptest.NewRequest(method, pathParam.ReplaceAllString(pattern, "1"), strings.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					probes = append(probes, req)
				}
			}
			bad := httptest.NewRequest(method, pathParam.ReplaceAllString(pattern, "1"), nil)
			bad.Header.Set("RequestedBy", "op\xff")
			bad.Header.Set("InstitutionKey", "a\x00b")
			probes = append(probes, bad)
			for _, req := range append(mustRefuse, probes...) {
				h := k.Headers(req.URL.Path)
				for i := 0; i+1 < len(h); i += 2 {
					if req.Header.Get(h[i]) == "" {
						req.Header.Set(h[i], h[i+1])
					}
				}
				resp := e.Raw(req)
				if resp.Status >= 500 || (slices.Contains(mustRefuse, req) && resp.Status < 400) {
					t.Errorf("%s %s (%q) = %d %s", req.Method, req.URL, req.Header.Get("RequestedBy"), resp.Status, resp.Body)
				}
			}
		}
		if strings.Contains(e.Logs.String(), `"level":"ERROR"`) {
			t.Errorf("bad bytes logged an error:\n%s", e.Logs)
		}
	})
}

// TestEdgeCases are the edge's own answers: the documented probes, a
// credential header sent twice, wrong methods on bare collection paths,
// one rate budget per key, and a client that goes away.
func TestEdgeCases(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		k := e.SeedKeys("acme")
		t.Run("documented probes", func(t *testing.T) {
			for _, tc := range []struct {
				method, path, body string
				headers            []string
				status             int
			}{
				{"POST", "/external/voice/a%00b/calls", "{}", nil, 400},
				{"GET", "/external/institutions/%ff", "", []string{"SsoToken", k.SSOToken}, 400},
				{"PUT", "/organization/x", `{"core":"a\u0000b"}`, []string{"Authorization", k.UserToken}, 400},
			} {
				req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
				req.Header.Set("Content-Type", "application/json")
				for i := 0; i+1 < len(tc.headers); i += 2 {
					req.Header.Set(tc.headers[i], tc.headers[i+1])
				}
				if resp := e.Raw(req); resp.Status != tc.status {
					t.Errorf("%s %s = %d %s", tc.method, tc.path, resp.Status, resp.Body)
				}
			}
		})
		t.Run("control characters in optional text", func(t *testing.T) {
			org, err := e.App.Access.Organization(e.System, "acme")
			if err != nil {
				t.Fatal(err)
			}
			resp := e.Do("PUT", "/organization/"+org.ID, map[string]string{"core": "line1\nline2\u0007"}, "Authorization", k.UserToken)
			if resp.Status != 400 || !strings.Contains(string(resp.Body), "control characters") {
				t.Errorf("core with control characters = %d %s", resp.Status, resp.Body)
			}
			if resp := e.Do("PUT", "/organization/"+org.ID, map[string]string{"core": ""}, "Authorization", k.UserToken); resp.Status != 200 {
				t.Errorf("an empty core (cleared) = %d %s", resp.Status, resp.Body)
			}
		})
		t.Run("credential header twice", func(t *testing.T) {
			for _, tc := range []struct{ path, header, value string }{
				{"/partner/session/1", "x-api-key", k.APIKey},
				{fmt.Sprintf("/partner/steps/session/%d", k.SessionID), "x-csrf-token", k.CSRFToken},
				{"/v1/accounts", "x-api-key", k.APIKey},
				{"/v1/accounts", "Authorization", "Api-Key " + k.APIKey},
				{"/external/institutions", "SsoToken", k.SSOToken},
				{"/users", "Authorization", k.UserToken},
			} {
				req := httptest.NewRequest("GET", tc.path, nil)
				req.Header.Add(tc.header, tc.value)
				req.Header.Add(tc.header, tc.value)
				resp := e.Raw(req)
				if resp.Status != 401 || !strings.Contains(string(resp.Body), "more than once") {
					t.Errorf("GET %s with %s twice = %d %s", tc.path, tc.header, resp.Status, resp.Body)
				}
			}
		})
		t.Run("data header twice", func(t *testing.T) {
			req := httptest.NewRequest("POST", "/partner/session", strings.NewReader(`{"params":{"expiryDate":"2030-01-01"}}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("x-api-key", k.APIKey)
			req.Header.Add("Idempotency-Key", "one")
			req.Header.Add("Idempotency-Key", "two")
			if resp := e.Raw(req); resp.Status != 400 || !strings.Contains(string(resp.Body), "more than once") {
				t.Errorf("Idempotency-Key twice = %d %s", resp.Status, resp.Body)
			}
			req = httptest.NewRequest("GET", "/v1/accounts/00000000-0000-4000-8000-000000000000/events", nil)
			req.Header.Set("x-api-key", k.APIKey)
			req.Header.Add("Last-Event-ID", "1")
			req.Header.Add("Last-Event-ID", "2")
			if resp := e.Raw(req); resp.Status != 400 {
				t.Errorf("Last-Event-ID twice = %d %s", resp.Status, resp.Body)
			}
		})
		t.Run("wrong method on a collection", func(t *testing.T) {
			for _, tc := range []struct{ method, path, allow string }{
				{"DELETE", "/users", "GET, POST"}, {"PATCH", "/roles", "GET, POST"}, {"PUT", "/token", "POST"},
				{"DELETE", "/webhooks", "GET, POST"}, {"POST", "/events", "GET"},
			} {
				resp := e.Raw(httptest.NewRequest(tc.method, tc.path, nil))
				if resp.Status != 405 || resp.Header.Get("Allow") != tc.allow || !strings.Contains(string(resp.Body), `"code":"method_not_allowed"`) {
					t.Errorf("%s %s = %d Allow %q %s", tc.method, tc.path, resp.Status, resp.Header.Get("Allow"), resp.Body)
				}
			}
		})
		t.Run("bare surface paths", func(t *testing.T) {
			for _, tc := range []struct{ path, shape string }{
				{"/partner", `"statusCode":404`}, {"/v1", `"code":"NOT_FOUND"`}, {"/external", `"success":false`},
				{"/application", `"code":"not_found"`}, {"/organization", `"code":"not_found"`},
				{"/webhooks/x/y/z", `"code":"not_found"`}, {"/v1/webhook-endpoints/x/y/z/w/v", `"code":"NOT_FOUND"`},
			} {
				resp := e.Raw(httptest.NewRequest("POST", tc.path, nil))
				if resp.Status != 404 || !strings.Contains(string(resp.Body), tc.shape) {
					t.Errorf("POST %s = %d %s, want the surface's 404", tc.path, resp.Status, resp.Body)
				}
			}
		})
		t.Run("one budget per key", func(t *testing.T) {
			limit := &verigate.RateLimitPolicy{TTL: time.Minute, Limit: 4, BlockDuration: time.Minute}
			key := seedKey(t, e, k, limit)
			statuses := []int{}
			for i := range 6 {
				path, h := "/v1/accounts", []string{"Authorization", "Api-Key " + key}
				if i%2 == 1 {
					path, h = "/partner/reviewer/sessions", []string{"x-api-key", key}
				}
				statuses = append(statuses, e.Do("GET", path, nil, h...).Status)
			}
			if fmt.Sprint(statuses) != "[200 200 200 200 429 429]" {
				t.Errorf("statuses across /v1 and /partner = %v, want 4 allowed in all", statuses)
			}
		})
		t.Run("client gone", func(t *testing.T) {
			e.Logs.Reset()
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			req := httptest.NewRequest("GET", "/v1/accounts", nil).WithContext(ctx)
			req.Header.Set("x-api-key", k.APIKey)
			if resp := e.Raw(req); resp.Status != 499 {
				t.Errorf("a request whose client left = %d %s", resp.Status, resp.Body)
			}
			if strings.Contains(e.Logs.String(), `"level":"ERROR"`) || !strings.Contains(e.Logs.String(), `"status":499`) {
				t.Errorf("a client abort is logged as an error, or not as 499:\n%s", e.Logs)
			}
			metrics := e.Do("GET", "/metrics", nil)
			if !strings.Contains(string(metrics.Body), `verigate_http_requests_total{route="GET /v1/accounts",status="499"} 1`) {
				t.Errorf("metrics do not count the abort as 499:\n%s", grep(string(metrics.Body), "GET /v1/accounts"))
			}
		})
	})
}

func seedKey(t *testing.T, e *apptest.Env, k *apptest.Keys, rl *verigate.RateLimitPolicy) string {
	t.Helper()
	key, _, err := e.App.Access.CreateAPIKey(e.System, access.APIKeyInput{OrgKey: k.Reseller.Key, UserEmail: k.Reseller.Email,
		Scopes: []string{"connections:read", "verifications:read"}, Mode: verigate.ModeLive, RateLimit: rl})
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestDeclaredOversizeBody: a request declaring a body over the limit is
// refused at once, before a byte of it is sent; a header block over the
// limit gets 431.
func TestDeclaredOversizeBody(t *testing.T) {
	e := apptest.SQLite(t)
	k := e.SeedKeys("acme")
	srv := e.App.HTTPServer()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	for _, path := range []string{"/partner/session", "/v1/accounts", "/users", "/external/institutions", "/v1/webhook-endpoints", "/webhooks"} {
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		// With valid credentials, so that only the size can refuse it.
		var creds strings.Builder
		h := k.Headers(path)
		for i := 0; i+1 < len(h); i += 2 {
			fmt.Fprintf(&creds, "%s: %s\r\n", h[i], h[i+1])
		}
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\n%sContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", path, creds.String(), e.App.Config.BodyLimit+1)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%s: no answer before the body was sent: %v", path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 413 {
			t.Errorf("POST %s declaring %d bytes = %d %s", path, e.App.Config.BodyLimit+1, resp.StatusCode, body)
		}
		conn.Close()
	}
	req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+"/healthz", nil)
	req.Header.Set("X-Big", strings.Repeat("a", app.MaxHeaderBytes+8<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 431 {
		t.Errorf("a %d-byte header = %d, want 431", app.MaxHeaderBytes+8<<10, resp.StatusCode)
	}
}
