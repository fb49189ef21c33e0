package embedded_test

import (
	"bytes"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/app/apptest"
)

// person creates a user in org with roles and returns its email.
func person(t testing.TB, e *apptest.Env, org, name string, roles ...string) string {
	t.Helper()
	email := name + "@" + org + ".test"
	if _, err := e.App.Access.CreateUser(e.System, access.UserInput{OrgKey: org, Email: email, Username: name, Password: "password of " + name, Roles: roles}); err != nil {
		t.Fatal(err)
	}
	return email
}

func signIn(t testing.TB, e *apptest.Env, email string) map[string]any {
	t.Helper()
	name := strings.Split(email, "@")[0]
	r := e.Do("POST", "/token", map[string]string{"email": email, "password": "password of " + name})
	if r.Status != 200 {
		t.Fatalf("POST /token: %d %s", r.Status, r.Body)
	}
	return r.JSON(t)
}

func wantError(t testing.TB, r *apptest.Response, status int, code string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	m := r.JSON(t)
	if m["code"] != code || m["type"] == "" || m["message"] == "" || m["requestId"] != r.Header.Get("X-Request-Id") || len(m) != 4 {
		t.Fatalf("error body %s (X-Request-Id %q), want code %s", r.Body, r.Header.Get("X-Request-Id"), code)
	}
}

func sqliteEnv(t testing.TB) *apptest.Env { return apptest.SQLite(t) }

func TestTokenEndpoint(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		e.SeedReseller("acme", "acme-cu")
		email := person(t, e, "acme", "olivia", verigate.RoleOwner)
		// The seed's curl: its JSON body with email and password (and its trailing comma).
		r := e.Do("POST", "/token", "{\n     \"email\": \""+email+"\",\n     \"password\": \"password of olivia\",\n}", "Accept", "application/json", "Content-Type", "application/json")
		if r.Status != 200 {
			t.Fatalf("POST /token: %d %s", r.Status, r.Body)
		}
		m := r.JSON(t)
		types := map[string]string{"isAuthenticated": "bool", "mode": "string", "token": "string", "type": "string", "user": "string",
			"application": "string", "account": "string", "allowedPermissions": "array", "allowedAccounts": "array",
			"enabledFeatures": "array", "apiVersion": "string", "expiresAt": "string"}
		for k, want := range types {
			var got string
			switch m[k].(type) {
			case bool:
				got = "bool"
			case string:
				got = "string"
			case []any:
				got = "array"
			}
			if got != want {
				t.Errorf("%s is %T, want %s", k, m[k], want)
			}
		}
		acme, _ := e.App.Access.Organization(e.System, "acme")
		if m["isAuthenticated"] != true || m["type"] != "user" || m["application"] != "admin-pwa" || m["account"] != acme.ID ||
			m["mode"] != "live" || len(m["allowedAccounts"].([]any)) != 2 || m["expiresAt"] != "2026-11-22T09:31:00.000Z" {
			t.Fatalf("token response: %s", r.Body)
		}
		if !strings.Contains(fmt.Sprint(m["allowedPermissions"]), "users.read") {
			t.Fatalf("allowedPermissions: %v", m["allowedPermissions"])
		}
		tok := m["token"].(string)
		for _, h := range []string{tok, "Bearer " + tok} {
			if r := e.Do("GET", "/organization/"+acme.ID, nil, "Authorization", h); r.Status != 200 {
				t.Fatalf("Authorization %q: %d %s", h[:10], r.Status, r.Body)
			}
		}
		if r := e.Do("POST", "/token", map[string]string{"email": email, "password": "password of olivia"}, "x-application-id", "partner-portal"); r.JSON(t)["application"] != "partner-portal" {
			t.Fatalf("x-application-id: %s", r.Body)
		}
		// Every credential failure is the same answer.
		unknown := e.Do("POST", "/token", map[string]string{"email": "nobody@acme.test", "password": "password of olivia"})
		wrong := e.Do("POST", "/token", map[string]string{"email": email, "password": "wrong password"})
		wantError(t, unknown, 401, "unauthorized")
		wantError(t, wrong, 401, "unauthorized")
		if unknown.JSON(t)["message"] != wrong.JSON(t)["message"] {
			t.Fatal("unknown email and wrong password answer differently")
		}
		// A service account signs in only with its access token.
		wantError(t, e.Do("POST", "/token", map[string]string{"email": "svc@acme.test", "password": "password of acme"}), 401, "unauthorized")
		// Idle 30 minutes (and the minute's allowance): gone; each success slides the window.
		e.Clock.Advance(29 * time.Minute)
		if r := e.Do("GET", "/organization/"+acme.ID, nil, "Authorization", tok); r.Status != 200 {
			t.Fatal("token dead before 30 idle minutes")
		}
		e.Clock.Advance(29 * time.Minute)
		if r := e.Do("GET", "/organization/"+acme.ID, nil, "Authorization", tok); r.Status != 200 {
			t.Fatal("a used token did not slide")
		}
		e.Clock.Advance(31*time.Minute + time.Second)
		wantError(t, e.Do("GET", "/organization/"+acme.ID, nil, "Authorization", tok), 401, "unauthorized")
	})
}

func TestApplicationTokens(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		e.SeedReseller("acme", "acme-cu")
		e.SeedReseller("bravo", "bravo-cu")
		bravo, _ := e.App.Access.Organization(e.System, "bravo")
		acmeCU, _ := e.App.Access.Organization(e.System, "acme-cu")
		admin := person(t, e, "acme", "adam", verigate.RoleAdmin)
		tok := signIn(t, e, admin)["token"].(string)
		mint := func(with string, body any) *apptest.Response {
			return e.Do("POST", "/application/reports/token", body, "Authorization", with)
		}
		r := mint(tok, map[string]any{"label": "reports", "permissions": []string{"users.read", "application-tokens.create", "organizations.read"}})
		if r.Status != 201 {
			t.Fatalf("mint: %d %s", r.Status, r.Body)
		}
		child := r.JSON(t)
		if child["type"] != "application" || child["token"] == "" || len(child["allowedPermissions"].([]any)) != 3 {
			t.Fatalf("minted: %s", r.Body)
		}
		childTok := child["token"].(string)
		// The child can read users but not update them.
		if r := e.Do("GET", "/users", nil, "Authorization", childTok); r.Status != 200 {
			t.Fatalf("child reads users: %d", r.Status)
		}
		wantError(t, e.Do("PUT", "/users/00000000-0000-7000-8000-000000000000", map[string]string{"username": "x"}, "Authorization", childTok), 403, "forbidden")
		// A grandchild can never exceed its child.
		wantError(t, mint(childTok, map[string]any{"permissions": []string{"users.update"}}), 403, "forbidden")
		grand := mint(childTok, map[string]any{"permissions": []string{"users.read"}, "accounts": []string{acmeCU.ID}})
		if grand.Status != 201 {
			t.Fatalf("grandchild: %d %s", grand.Status, grand.Body)
		}
		grandTok := grand.JSON(t)["token"].(string)
		// Mass assignment: nothing beyond the creator, and nothing changes.
		before := tokensOf(t, e, tok)
		wantError(t, mint(tok, map[string]any{"permissions": []string{"*"}}), 400, "validation_error")
		wantError(t, mint(tok, map[string]any{"permissions": []string{"users.read"}, "allowedPermissions": []string{"*"}}), 400, "validation_error")
		wantError(t, mint(tok, map[string]any{"permissions": []string{"users.read"}, "accounts": []string{bravo.ID}}), 403, "forbidden")
		wantError(t, mint(tok, map[string]any{"permissions": []string{"organizations.disable"}}), 403, "forbidden")
		if after := tokensOf(t, e, tok); after != before {
			t.Fatalf("a refused mint created a token: %d → %d", before, after)
		}
		// The list shows no secrets.
		r = e.Do("GET", "/application/reports/token?sort=createdAt&limit=10", nil, "Authorization", tok)
		if r.Status != 200 || strings.Contains(string(r.Body), childTok) || strings.Contains(string(r.Body), `"token"`) {
			t.Fatalf("list: %d %s", r.Status, r.Body)
		}
		// Revoking the child disables the grandchild.
		if r := e.Do("DELETE", "/application/reports/token/"+child["id"].(string), nil, "Authorization", tok); r.Status != 204 {
			t.Fatalf("revoke: %d %s", r.Status, r.Body)
		}
		wantError(t, e.Do("GET", "/users", nil, "Authorization", childTok), 401, "unauthorized")
		wantError(t, e.Do("GET", "/users", nil, "Authorization", grandTok), 401, "unauthorized")
	})
}

func tokensOf(t testing.TB, e *apptest.Env, tok string) int {
	var l struct{ Total int }
	e.Do("GET", "/application/reports/token", nil, "Authorization", tok).Decode(t, &l)
	return l.Total
}

// TestDisableKillsEverything: disabling a user kills its user and
// application tokens, SSO sessions, dashboard login tokens and API keys.
func TestDisableKillsEverything(t *testing.T) {
	e := sqliteEnv(t)
	r := e.SeedReseller("acme", "acme-cu")
	owner := signIn(t, e, person(t, e, "acme", "olivia", verigate.RoleOwner))["token"].(string)
	// The victim: the reseller's service account, with every kind of credential.
	svc, _ := e.App.Access.SignInServiceAccount(e.System, r.AccessToken, r.Email, r.Password)
	ssoResp := e.Do("POST", "/external/token/request", map[string]string{"email": r.Email, "password": r.Password}, "accessToken", r.AccessToken)
	sso := ssoResp.JSON(t)["token"].(string)
	login := e.Do("POST", "/external/token/request/user", nil, "SsoToken", sso, "InstitutionKey", "acme-cu", "RequestedBy", "jdoe").JSON(t)["token"].(string)
	key, _, _ := e.App.Access.CreateAPIKey(e.System, access.APIKeyInput{OrgKey: "acme", UserEmail: r.Email, Scopes: []string{"verifications:read"}})
	// A person with tokens too.
	victim := person(t, e, "acme", "vera", verigate.RoleDeveloper)
	vt := signIn(t, e, victim)["token"].(string)
	app := e.Do("POST", "/application/ci/token", map[string]any{"permissions": []string{"application-tokens.read"}}, "Authorization", vt).JSON(t)["token"].(string)
	vu, _ := e.App.DB.GetUserByEmail(e.System, victim)

	for _, id := range []string{svc.ID, vu.ID} {
		if r := e.Do("POST", "/users/"+id+"/disable", nil, "Authorization", owner); r.Status != 200 {
			t.Fatalf("disable: %d %s", r.Status, r.Body)
		}
	}
	if r := e.Do("GET", "/external/institutions", nil, "SsoToken", sso); r.Status != 401 {
		t.Fatalf("SSO token after disable: %d", r.Status)
	}
	if _, err := e.App.Access.RedeemLoginToken(e.System, login); err == nil {
		t.Fatal("dashboard login token redeemed after disable")
	}
	if r := e.Do("GET", "/partner/reviewer/sessions", nil, "x-api-key", key); r.Status != 401 {
		t.Fatalf("API key after disable: %d", r.Status)
	}
	for _, tok := range []string{vt, app} {
		wantError(t, e.Do("GET", "/application/ci/token", nil, "Authorization", tok), 401, "unauthorized")
	}
}

func TestRolesAndUsers(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		e.SeedReseller("acme", "acme-cu")
		e.SeedReseller("bravo", "bravo-cu")
		acme, _ := e.App.Access.Organization(e.System, "acme")
		tok := signIn(t, e, person(t, e, "acme", "olivia", verigate.RoleOwner))["token"].(string)
		bravoTok := signIn(t, e, person(t, e, "bravo", "bob", verigate.RoleOwner))["token"].(string)
		h := []string{"Authorization", tok}
		r := e.Do("POST", "/roles", map[string]any{"name": "auditor", "description": "reads", "permissions": []string{"users.read", "audit.read"}}, h...)
		if r.Status != 201 {
			t.Fatalf("create role: %d %s", r.Status, r.Body)
		}
		roleID := r.JSON(t)["id"].(string)
		bravoRole := e.Do("POST", "/roles", map[string]any{"name": "bravo-role", "permissions": []string{"users.read"}}, "Authorization", bravoTok).JSON(t)["id"].(string)
		r = e.Do("POST", "/users", map[string]any{"email": "aud@acme.test", "username": "aud", "password": "password of aud", "roles": []string{roleID}}, h...)
		if r.Status != 201 {
			t.Fatalf("create user with a custom role: %d %s", r.Status, r.Body)
		}
		userID := r.JSON(t)["id"].(string)
		audTok := signIn(t, e, "aud@acme.test")["token"].(string)
		if r := e.Do("GET", "/users/"+userID, nil, "Authorization", audTok); r.Status != 200 {
			t.Fatalf("custom role grants users.read: %d", r.Status)
		}
		// A role of another organization cannot be given; nothing changes.
		wantError(t, e.Do("PUT", "/users/"+userID+"/roles", map[string]any{"roles": []string{bravoRole}}, h...), 400, "validation_error")
		if u, _ := e.App.DB.GetUser(e.System, userID); u.Roles[0] != roleID || len(u.Roles) != 1 {
			t.Fatalf("roles changed: %v", u.Roles)
		}
		// Changing the role changes what its holders may do at once.
		if r := e.Do("PUT", "/roles/"+roleID, map[string]any{"name": "auditor", "permissions": []string{"audit.read"}}, h...); r.Status != 200 {
			t.Fatalf("update role: %d %s", r.Status, r.Body)
		}
		wantError(t, e.Do("GET", "/users/"+userID, nil, "Authorization", audTok), 403, "forbidden")
		wantError(t, e.Do("DELETE", "/roles/"+roleID, nil, h...), 409, "conflict")
		wantError(t, e.Do("PUT", "/roles/owner", map[string]any{"name": "owner2", "permissions": []string{}}, h...), 403, "forbidden")
		// A viewer cannot create an admin; an admin cannot manage the owner.
		viewerTok := signIn(t, e, person(t, e, "acme", "victor", verigate.RoleViewer, verigate.RoleDeveloper))["token"].(string)
		_ = viewerTok
		adminTok := signIn(t, e, person(t, e, "acme", "adam", verigate.RoleAdmin))["token"].(string)
		owner, _ := e.App.DB.GetUserByEmail(e.System, "olivia@acme.test")
		wantError(t, e.Do("POST", "/users/"+owner.ID+"/disable", nil, "Authorization", adminTok), 403, "forbidden")
		wantError(t, e.Do("POST", "/users", map[string]any{"email": "x@acme.test", "username": "x", "password": "password x", "roles": []string{"owner"}}, "Authorization", adminTok), 403, "forbidden")
		// Update, roles, delete.
		if r := e.Do("PUT", "/users/"+userID, map[string]any{"username": "auditor-1"}, h...); r.Status != 200 || r.JSON(t)["username"] != "auditor-1" {
			t.Fatalf("update user: %d %s", r.Status, r.Body)
		}
		if r := e.Do("PUT", "/users/"+userID+"/roles", map[string]any{"roles": []string{"viewer"}}, h...); r.Status != 200 {
			t.Fatalf("set roles: %d %s", r.Status, r.Body)
		}
		if r := e.Do("DELETE", "/roles/"+roleID, nil, h...); r.Status != 204 {
			t.Fatalf("delete role: %d %s", r.Status, r.Body)
		}
		if r := e.Do("DELETE", "/users/"+userID, nil, h...); r.Status != 204 {
			t.Fatalf("delete user: %d %s", r.Status, r.Body)
		}
		wantError(t, e.Do("GET", "/users/"+userID, nil, h...), 404, "not_found")
		wantError(t, e.Do("POST", "/users/"+owner.ID+"/disable", nil, h...), 409, "conflict") // yourself
		// Organization and accounts.
		var accts struct{ Data []map[string]any }
		e.Do("GET", "/organization/"+acme.ID+"/account/search?q=CU", nil, h...).Decode(t, &accts)
		if len(accts.Data) != 1 || accts.Data[0]["key"] != "acme-cu" {
			t.Fatalf("search accounts: %+v", accts)
		}
		cu := accts.Data[0]["id"].(string)
		if r := e.Do("PUT", "/organization/"+acme.ID+"/account/"+cu, map[string]any{"core": "Corelation KeyStone"}, h...); r.Status != 200 || r.JSON(t)["core"] != "Corelation KeyStone" {
			t.Fatalf("update account: %d %s", r.Status, r.Body)
		}
		if r := e.Do("PUT", "/organization/"+acme.ID, map[string]any{"name": "Acme Holdings"}, h...); r.Status != 200 {
			t.Fatalf("update organization: %d %s", r.Status, r.Body)
		}
		rr := e.Raw(httptest.NewRequest("PATCH", "/users/"+userID, bytes.NewReader(nil)))
		if rr.Status != 405 || !strings.Contains(string(rr.Body), "method_not_allowed") {
			t.Fatalf("405: %d %s", rr.Status, rr.Body)
		}
	})
}

func TestSignInLimitPerAddress(t *testing.T) {
	e := sqliteEnv(t)
	e.SeedReseller("acme", "acme-cu")
	for i := range 30 {
		r := e.Do("POST", "/token", map[string]string{"email": fmt.Sprintf("nobody%d@acme.test", i), "password": "whatever pw"})
		if r.Status != 401 {
			t.Fatalf("attempt %d: %d", i+1, r.Status)
		}
	}
	r := e.Do("POST", "/token", map[string]string{"email": "nobody@acme.test", "password": "whatever pw"})
	wantError(t, r, 429, "rate_limited")
	if r.Header.Get("Retry-After") != "60" {
		t.Fatalf("Retry-After = %q", r.Header.Get("Retry-After"))
	}
}
