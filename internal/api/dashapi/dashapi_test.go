package dashapi_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/app/apptest"
)

const password = "password of a person"

// person creates a user of org with roles and returns its email.
func person(t *testing.T, e *apptest.Env, org, name string, roles ...string) string {
	t.Helper()
	email := name + "@" + org + ".test"
	if _, err := e.App.Access.CreateUser(e.System, access.UserInput{OrgKey: org, Email: email, Username: name + "-" + org, Password: password, Roles: roles}); err != nil {
		t.Fatal(err)
	}
	return email
}

func login(t *testing.T, e *apptest.Env, email string) string {
	t.Helper()
	return loginMode(t, e, email, "")
}

func loginMode(t *testing.T, e *apptest.Env, email, mode string) string {
	t.Helper()
	body := map[string]string{"email": email, "password": password}
	if mode != "" {
		body["mode"] = mode
	}
	r := e.Do("POST", "/api/auth/login", body)
	if r.Status != 200 {
		t.Fatalf("login %s: %d %s", email, r.Status, r.Body)
	}
	return r.JSON(t)["token"].(string)
}

func bearer(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

// wantError checks the status and the {"error":"message"} shape.
func wantError(t *testing.T, r *apptest.Response, status int) string {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	var body map[string]any
	r.Decode(t, &body)
	msg, ok := body["error"].(string)
	if !ok || msg == "" || len(body) != 1 {
		t.Fatalf(`want {"error":"message"}, got %s`, r.Body)
	}
	return msg
}

func TestLogin(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		e.SeedReseller("acme")
		email := person(t, e, "acme", "ada", verigate.RoleAdmin)
		r := e.Do("POST", "/api/auth/login", map[string]string{"email": email, "password": password})
		if r.Status != 200 {
			t.Fatalf("login: %d %s", r.Status, r.Body)
		}
		var s struct {
			Token     string `json:"token"`
			ExpiresAt string `json:"expires_at"`
			User      struct{ ID, Email string }
		}
		r.Decode(t, &s)
		if s.User.Email != email || s.User.ID == "" || s.ExpiresAt != e.Clock.Now().Add(15*time.Minute).Format(time.RFC3339) {
			t.Fatalf("session: %s", r.Body)
		}
		parts := strings.Split(s.Token, ".")
		if len(parts) != 3 {
			t.Fatalf("not a JWT: %s", s.Token)
		}
		var head, claims map[string]any
		hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
		cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
		json.Unmarshal(hb, &head)
		json.Unmarshal(cb, &claims)
		if head["alg"] != "HS256" || head["typ"] != "JWT" || claims["sub"] != s.User.ID || claims["iss"] != "verigate" ||
			claims["exp"].(float64)-claims["iat"].(float64) != 900 {
			t.Fatalf("header %v claims %v", head, claims)
		}
		if r := e.Do("GET", "/api/me/api-keys", nil, bearer(s.Token)...); r.Status != 200 {
			t.Fatalf("with the JWT: %d %s", r.Status, r.Body)
		}

		// Wrong password, unknown email, missing fields: nothing issued.
		wantError(t, e.Do("POST", "/api/auth/login", map[string]string{"email": email, "password": "wrong password"}), 401)
		wantError(t, e.Do("POST", "/api/auth/login", map[string]string{"email": "nobody@acme.test", "password": password}), 401)
		wantError(t, e.Do("POST", "/api/auth/login", map[string]string{"email": email}), 400)
		wantError(t, e.Do("POST", "/api/auth/login", map[string]string{"email": email, "password": password, "mode": "sandbox"}), 400)
		wantError(t, e.Do("POST", "/api/auth/login", `{"email":`, "Content-Type", "application/json"), 400)
		// A service account signs in through /external, not here.
		wantError(t, e.Do("POST", "/api/auth/login", map[string]string{"email": "svc@acme.test", "password": "password of acme"}), 401)
	})
}

func TestLoginLockout(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		e.SeedReseller("acme")
		email := person(t, e, "acme", "ada", verigate.RoleAdmin)
		for range access.LockoutThreshold {
			wantError(t, e.Do("POST", "/api/auth/login", map[string]string{"email": email, "password": "wrong password"}), 401)
		}
		r := e.Do("POST", "/api/auth/login", map[string]string{"email": email, "password": password})
		wantError(t, r, 429)
		if r.Header.Get("Retry-After") == "" {
			t.Fatal("no Retry-After")
		}
		// The embedded sign-in shares the lockout: one password check.
		if r := e.Do("POST", "/token", map[string]string{"email": email, "password": password}); r.Status != 429 {
			t.Fatalf("embedded sign-in while locked: %d %s", r.Status, r.Body)
		}
		e.Clock.Advance(access.LockoutBase + time.Second)
		login(t, e, email)
	})
}

func TestLoginAddressLimit(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		e.SeedReseller("acme")
		var last *apptest.Response
		for i := range 40 {
			last = e.Do("POST", "/api/auth/login", map[string]string{"email": "n" + string(rune('a'+i%26)) + "@acme.test", "password": "wrong password"})
			if last.Status == 429 {
				break
			}
		}
		wantError(t, last, 429)
	})
}

// forge signs claims with key as the service would, or not at all.
func forge(t *testing.T, key []byte, header string, claims map[string]any) string {
	t.Helper()
	cb, _ := json.Marshal(claims)
	in := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString(cb)
	if key == nil {
		return in + "."
	}
	return in + "." + sign(key, in)
}

func TestJWTRefusals(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		e.SeedReseller("acme")
		email := person(t, e, "acme", "ada", verigate.RoleAdmin)
		tok := login(t, e, email)
		parts := strings.Split(tok, ".")
		cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var claims map[string]any
		json.Unmarshal(cb, &claims)

		// No credential, a malformed one.
		wantError(t, e.Do("GET", "/api/me/api-keys", nil), 401)
		wantError(t, e.Do("GET", "/api/me/api-keys", nil, bearer("not.a.jwt")...), 401)
		// A tampered payload (another subject) or signature.
		other := map[string]any{}
		for k, v := range claims {
			other[k] = v
		}
		other["exp"] = claims["exp"].(float64) + 3600
		ob, _ := json.Marshal(other)
		wantError(t, e.Do("GET", "/api/me/api-keys", nil, bearer(parts[0]+"."+base64.RawURLEncoding.EncodeToString(ob)+"."+parts[2])...), 401)
		sig := []byte(parts[2])
		sig[5] ^= 1
		wantError(t, e.Do("GET", "/api/me/api-keys", nil, bearer(parts[0]+"."+parts[1]+"."+string(sig))...), 401)
		// alg none, and a token signed with another key.
		wantError(t, e.Do("GET", "/api/me/api-keys", nil, bearer(forge(t, nil, `{"alg":"none","typ":"JWT"}`, claims))...), 401)
		wantError(t, e.Do("GET", "/api/me/api-keys", nil, bearer(forge(t, access.JWTKey(strings.Repeat("x", 32)), `{"alg":"HS256","typ":"JWT"}`, claims))...), 401)
		// alg none or another algorithm named, even over a signature the
		// service's key made: only the header it issues is accepted.
		for _, h := range []string{`{"alg":"none","typ":"JWT"}`, `{"alg":"HS512","typ":"JWT"}`, `{"alg":"HS256","typ":"JWS"}`} {
			wantError(t, e.Do("GET", "/api/me/api-keys", nil, bearer(forge(t, e.App.Access.JWTKey, h, claims))...), 401)
		}
		// The service's own key signs: a forged token with it passes (the
		// test's forge is right), so the refusals above are the checks'.
		if r := e.Do("GET", "/api/me/api-keys", nil, bearer(forge(t, e.App.Access.JWTKey, `{"alg":"HS256","typ":"JWT"}`, claims))...); r.Status != 200 {
			t.Fatalf("well-signed: %d %s", r.Status, r.Body)
		}

		// Expired: good until 15 minutes, refused from then on.
		e.Clock.Advance(15*time.Minute - time.Second)
		if r := e.Do("GET", "/api/me/api-keys", nil, bearer(tok)...); r.Status != 200 {
			t.Fatalf("before expiry: %d %s", r.Status, r.Body)
		}
		e.Clock.Advance(time.Second)
		wantError(t, e.Do("GET", "/api/me/api-keys", nil, bearer(tok)...), 401)
	})
}

func TestJWTDisabledUser(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		e.SeedReseller("acme")
		email := person(t, e, "acme", "ada", verigate.RoleAdmin)
		tok := login(t, e, email)
		r := e.Do("GET", "/api/me/api-keys", nil, bearer(tok)...)
		if r.Status != 200 {
			t.Fatalf("before: %d %s", r.Status, r.Body)
		}
		u, err := e.App.DB.GetUserByEmail(e.System, email)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.App.Access.DisableUser(e.System, u.ID); err != nil {
			t.Fatal(err)
		}
		// On the very next request (the cache was warm).
		wantError(t, e.Do("GET", "/api/me/api-keys", nil, bearer(tok)...), 401)

		// Another replica, its cache warm, honours a disable made elsewhere
		// once it has polled the store's generation (within access.Fresh;
		// without the poll it still answers 200: the cache is in use).
		r2 := e.Replica()
		r2.App.SetClock(e.Clock.Now)
		email3 := person(t, e, "acme", "cyd", verigate.RoleAdmin)
		tok3 := login(t, e, email3)
		if r := r2.Do("GET", "/api/me/api-keys", nil, bearer(tok3)...); r.Status != 200 {
			t.Fatalf("on the replica: %d %s", r.Status, r.Body)
		}
		u3, _ := e.App.DB.GetUserByEmail(e.System, email3)
		if _, err := e.App.Access.DisableUser(e.System, u3.ID); err != nil {
			t.Fatal(err)
		}
		if err := r2.App.Access.RefreshCredentialCache(e.System); err != nil {
			t.Fatal(err)
		}
		wantError(t, r2.Do("GET", "/api/me/api-keys", nil, bearer(tok3)...), 401)

		// Deleted, likewise.
		email2 := person(t, e, "acme", "bob", verigate.RoleAdmin)
		tok2 := login(t, e, email2)
		e.Do("GET", "/api/me/api-keys", nil, bearer(tok2)...)
		u2, _ := e.App.DB.GetUserByEmail(e.System, email2)
		if err := e.App.Access.DeleteUser(e.System, u2.ID); err != nil {
			t.Fatal(err)
		}
		wantError(t, e.Do("GET", "/api/me/api-keys", nil, bearer(tok2)...), 401)
	})
}

func TestCredentialsStayOnTheirSurface(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		k := e.SeedKeys("acme")
		// An API key on /api, in every header it could come in.
		for _, h := range [][]string{{"Authorization", "Api-Key " + k.APIKey}, {"x-api-key", k.APIKey}, {"Authorization", "Bearer " + k.APIKey},
			{"Authorization", "Bearer " + k.JWT, "x-api-key", k.APIKey}} {
			msg := wantError(t, e.Do("GET", "/api/me/api-keys", nil, h...), 401)
			if !strings.Contains(msg, "API key") {
				t.Errorf("%v: %s", h, msg)
			}
		}
		// The embedded user token is not a JWT either.
		wantError(t, e.Do("GET", "/api/me/api-keys", nil, bearer(k.UserToken)...), 401)
		// The JWT on /v1, as Bearer or in the key headers.
		for _, h := range [][]string{{"Authorization", "Bearer " + k.JWT}, {"Authorization", "Api-Key " + k.JWT}, {"x-api-key", k.JWT}} {
			if r := e.Do("GET", "/v1/accounts", nil, h...); r.Status != 401 {
				t.Fatalf("JWT on /v1 (%s): %d %s", h[0], r.Status, r.Body)
			}
		}
		// And on the other surfaces that take a user's token.
		if r := e.Do("GET", "/users", nil, bearer(k.JWT)...); r.Status != 401 {
			t.Fatalf("JWT on the Embedded API: %d %s", r.Status, r.Body)
		}
		if r := e.Do("GET", "/api/me/api-keys", nil, k.Headers("/api/")...); r.Status != 200 {
			t.Fatalf("the JWT itself: %d %s", r.Status, r.Body)
		}
	})
}
