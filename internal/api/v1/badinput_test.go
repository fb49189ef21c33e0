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

func TestBadInput(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := newFixture(t, e)
		id := f.connect(t, "otp")
		other := f.connect(t, "otp")
		f.work(t)
		e.SeedReseller("bravo", "bravo-cu")
		foreignKey := makeKey(t, e, "bravo", access.APIKeyInput{Scopes: allScopes})
		statusOnly := makeKey(t, e, "acme", access.APIKeyInput{Scopes: []string{"status:read"}})
		restricted := makeKey(t, e, "acme", access.APIKeyInput{Scopes: allScopes, Accounts: []string{id}})
		revoked := makeKey(t, e, "acme", access.APIKeyInput{Scopes: allScopes, Name: "revoked"})
		keys, _ := e.App.Access.ListAPIKeys(e.System, "acme")
		for _, k := range keys {
			if k.Name == "revoked" {
				e.App.Access.RevokeAPIKey(e.System, k.ID)
			}
		}
		soon := e.Clock.Now().Add(time.Minute)
		expired := makeKey(t, e, "acme", access.APIKeyInput{Scopes: allScopes, ExpiresAt: &soon})
		e.Clock.Advance(2 * time.Minute)
		badSum := f.key[:len(f.key)-1] + map[bool]string{true: "A", false: "B"}[f.key[len(f.key)-1] != 'A']

		statusPath := "/v1/accounts/" + id + "/status"
		otpPath := "/v1/accounts/" + id + "/otp"
		for _, tc := range []struct {
			name, method, path string
			body               any
			headers            []string
			status             int
			code               string
		}{
			{"no key", "GET", statusPath, nil, nil, 401, "UNAUTHORIZED"},
			{"Bearer", "GET", statusPath, nil, []string{"Authorization", "Bearer " + f.key}, 401, "UNAUTHORIZED"},
			{"empty value", "GET", statusPath, nil, []string{"Authorization", "Api-Key "}, 401, "UNAUTHORIZED"},
			{"empty x-api-key", "GET", statusPath, nil, []string{"x-api-key", " "}, 401, "UNAUTHORIZED"},
			{"two different keys", "GET", statusPath, nil, []string{"Authorization", "Api-Key " + f.key, "x-api-key", statusOnly}, 401, "INVALID_API_KEY"},
			{"16 KiB header", "GET", statusPath, nil, []string{"x-api-key", strings.Repeat("k", 16<<10)}, 401, "INVALID_API_KEY"},
			{"control characters", "GET", statusPath, nil, []string{"x-api-key", f.key[:10] + "\x01" + f.key[11:]}, 401, "INVALID_API_KEY"},
			{"wrong checksum", "GET", statusPath, nil, []string{"x-api-key", badSum}, 401, "INVALID_API_KEY"},
			{"revoked", "GET", statusPath, nil, []string{"x-api-key", revoked}, 401, "INVALID_API_KEY"},
			{"expired", "GET", statusPath, nil, []string{"x-api-key", expired}, 401, "INVALID_API_KEY"},
			{"wrong scope", "POST", otpPath, map[string]string{"code": "123456"}, []string{"x-api-key", statusOnly}, 403, "FORBIDDEN"},
			{"other account", "GET", "/v1/accounts/" + other + "/status", nil, []string{"x-api-key", restricted}, 403, "FORBIDDEN"},
			{"foreign account", "GET", statusPath, nil, []string{"x-api-key", foreignKey}, 404, "NOT_FOUND"},
			{"missing account", "GET", "/v1/accounts/00000000-0000-4000-8000-000000000000/status", nil, []string{"x-api-key", f.key}, 404, "NOT_FOUND"},
			{"non-UUID id", "GET", "/v1/accounts/12345/status", nil, []string{"x-api-key", f.key}, 400, "VALIDATION_ERROR"},
			{"code of length 0", "POST", otpPath, map[string]string{"code": ""}, []string{"x-api-key", f.key}, 400, "VALIDATION_ERROR"},
			{"code of length 33", "POST", otpPath, map[string]string{"code": strings.Repeat("1", 33)}, []string{"x-api-key", f.key}, 400, "VALIDATION_ERROR"},
			{"code a number", "POST", otpPath, map[string]any{"code": 123456}, []string{"x-api-key", f.key}, 400, "VALIDATION_ERROR"},
			{"code null", "POST", otpPath, `{"code":null}`, []string{"x-api-key", f.key, "Content-Type", "application/json"}, 400, "VALIDATION_ERROR"},
			{"unknown field", "POST", otpPath, map[string]any{"code": "1", "otp": "2"}, []string{"x-api-key", f.key}, 400, "VALIDATION_ERROR"},
			{"wrong content type", "POST", otpPath, `code=123456`, []string{"x-api-key", f.key, "Content-Type", "application/x-www-form-urlencoded"}, 415, "UNSUPPORTED_MEDIA_TYPE"},
			{"body over 1 MiB", "POST", otpPath, `{"code":"` + strings.Repeat("1", 1<<20) + `"}`, []string{"x-api-key", f.key, "Content-Type", "application/json"}, 413, "PAYLOAD_TOO_LARGE"},
			{"malformed JSON", "POST", otpPath, `{"code":`, []string{"x-api-key", f.key, "Content-Type", "application/json"}, 400, "VALIDATION_ERROR"},
			{"bad source", "POST", "/v1/accounts", map[string]any{"source_id": 1, "credentials": map[string]string{"u": "x"}}, []string{"x-api-key", f.key}, 400, "VALIDATION_ERROR"},
			{"no credentials", "POST", "/v1/accounts", map[string]any{"source_id": f.sandbox}, []string{"x-api-key", f.key}, 400, "VALIDATION_ERROR"},
			{"bad limit", "GET", "/v1/accounts?limit=1000", nil, []string{"x-api-key", f.key}, 400, "VALIDATION_ERROR"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantError(t, e.Do(tc.method, tc.path, tc.body, tc.headers...), tc.status, tc.code)
			})
		}
		// The scheme is case-insensitive, and x-api-key works alone.
		for _, h := range [][]string{{"Authorization", "api-key " + f.key}, {"Authorization", "API-KEY " + f.key}, {"x-api-key", f.key}} {
			if r := e.Do("GET", statusPath, nil, h...); r.Status != 200 {
				t.Fatalf("%v: %d %s", h, r.Status, r.Body)
			}
		}
		r := e.Raw(httptest.NewRequest("DELETE", statusPath, nil))
		if r.Status != 405 || !strings.Contains(string(r.Body), "METHOD_NOT_ALLOWED") {
			t.Fatalf("405: %d %s", r.Status, r.Body)
		}
		if strings.Contains(e.Logs.String(), `"level":"ERROR"`) {
			t.Fatalf("bad input logged an error:\n%s", e.Logs)
		}
	})
}

func TestOTPRateLimit(t *testing.T) {
	e := apptest.SQLite(t)
	f := newFixture(t, e)
	id := f.connect(t, "otp")
	f.work(t)
	for i := range 5 {
		if r := f.otp(t, id, "00000"+string(rune('0'+i))); r.Status != 202 {
			t.Fatalf("code %d: %d %s", i+1, r.Status, r.Body)
		}
		f.work(t)
		if i == 2 { // three wrong codes fail the login; start another to keep a request open
			e.Do("POST", "/v1/accounts/"+id+"/refresh", nil, "x-api-key", f.key)
			f.work(t)
		}
	}
	r := f.otp(t, id, "123456")
	wantError(t, r, 429, "RATE_LIMITED")
	if r.Header.Get("Retry-After") == "" {
		t.Fatalf("429 headers: %v", r.Header)
	}
	e.Clock.Advance(21 * time.Minute)
	if r := f.otp(t, id, "123456"); r.Status != 202 {
		t.Fatalf("after the window: %d %s", r.Status, r.Body)
	}
}

// accessInput is a key with every scope and a rate limit no benchmark reaches.
func accessInput(limit int) access.APIKeyInput {
	return access.APIKeyInput{Scopes: allScopes, RateLimit: &verigate.RateLimitPolicy{TTL: time.Second, Limit: limit, BlockDuration: time.Second}}
}
