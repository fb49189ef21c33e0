package embedded_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/app/apptest"
)

// missingID is shaped like an id but names nothing.
const missingID = "00000000-0000-7000-8000-0000000000ff"

// errorFields is an error body without its request id, which differs on
// every request, and with the ids the request named made alike.
func errorFields(t *testing.T, r *apptest.Response, ids *strings.Replacer) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(ids.Replace(string(r.Body))), &m); err != nil {
		t.Fatalf("error body is not JSON: %s", r.Body)
	}
	delete(m, "requestId")
	return m
}

// TestCrossTenant sends every Embedded and /external/institutions request
// that names an object, once with another tenant's object and once with
// one that does not exist: the two answers must be the same, status and
// wording. Uniqueness conflicts with another tenant's email or key must
// not confirm it.
func TestCrossTenant(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		acmeR := e.SeedReseller("acme", "acme-cu")
		e.SeedReseller("bravo", "bravo-cu")
		acme, _ := e.App.Access.Organization(e.System, "acme")
		bravo, _ := e.App.Access.Organization(e.System, "bravo")
		bravoCU, _ := e.App.Access.Organization(e.System, "bravo-cu")
		acmeTok := signIn(t, e, person(t, e, "acme", "olivia", verigate.RoleOwner))["token"].(string)
		bravoTok := signIn(t, e, person(t, e, "bravo", "bob", verigate.RoleOwner))["token"].(string)
		sso := e.Do("POST", "/external/token/request", map[string]string{"email": acmeR.Email, "password": acmeR.Password},
			"accessToken", acmeR.AccessToken).JSON(t)["token"].(string)
		asBravo := func(method, path string, body any) map[string]any {
			r := e.Do(method, path, body, "Authorization", bravoTok)
			if r.Status != 201 {
				t.Fatalf("%s %s as bravo: %d %s", method, path, r.Status, r.Body)
			}
			return r.JSON(t)
		}
		bravoUser := asBravo("POST", "/users", map[string]any{"email": "bella@bravo.test", "username": "bella", "password": "password of bella", "roles": []string{"viewer"}})["id"].(string)
		bravoRole := asBravo("POST", "/roles", map[string]any{"name": "bravo-readers", "permissions": []string{"users.read"}})["id"].(string)
		bravoToken := asBravo("POST", "/application/reports/token", map[string]any{"permissions": []string{"users.read"}})["id"].(string)
		ownUser := e.Do("POST", "/users", map[string]any{"email": "ursula@acme.test", "username": "ursula", "password": "password of ursula", "roles": []string{"viewer"}},
			"Authorization", acmeTok).JSON(t)["id"].(string)

		newUser := func(account string, roles ...string) map[string]any {
			return map[string]any{"email": "nina@acme.test", "username": "nina", "password": "password of nina", "roles": roles, "account": account}
		}
		role := func(account string) map[string]any {
			return map[string]any{"name": "r", "permissions": []string{"users.read"}, "account": account}
		}
		embedded := []string{"Authorization", acmeTok}
		reseller := []string{"SsoToken", sso}
		cases := []struct {
			name                    string
			method                  string
			foreignPath, missingPth string
			foreignBody, missingBdy any
			headers                 []string
		}{
			{"list users of an account", "GET", "/users?account=" + bravo.ID, "/users?account=" + missingID, nil, nil, embedded},
			{"create a user in an account", "POST", "/users", "/users", newUser(bravo.ID, "viewer"), newUser(missingID, "viewer"), embedded},
			{"create a user with a custom role", "POST", "/users", "/users", newUser(acme.ID, bravoRole), newUser(acme.ID, missingID), embedded},
			{"get a user", "GET", "/users/" + bravoUser, "/users/" + missingID, nil, nil, embedded},
			{"update a user", "PUT", "/users/" + bravoUser, "/users/" + missingID, map[string]any{"username": "x"}, map[string]any{"username": "x"}, embedded},
			{"delete a user", "DELETE", "/users/" + bravoUser, "/users/" + missingID, nil, nil, embedded},
			{"disable a user", "POST", "/users/" + bravoUser + "/disable", "/users/" + missingID + "/disable", nil, nil, embedded},
			{"set a user's roles", "PUT", "/users/" + bravoUser + "/roles", "/users/" + missingID + "/roles",
				map[string]any{"roles": []string{"viewer"}}, map[string]any{"roles": []string{"viewer"}}, embedded},
			{"give a custom role", "PUT", "/users/" + ownUser + "/roles", "/users/" + ownUser + "/roles",
				map[string]any{"roles": []string{bravoRole}}, map[string]any{"roles": []string{missingID}}, embedded},
			{"get a role", "GET", "/roles/" + bravoRole, "/roles/" + missingID, nil, nil, embedded},
			{"update a role", "PUT", "/roles/" + bravoRole, "/roles/" + missingID, role(""), role(""), embedded},
			{"delete a role", "DELETE", "/roles/" + bravoRole, "/roles/" + missingID, nil, nil, embedded},
			{"create a role in an account", "POST", "/roles", "/roles", role(bravo.ID), role(missingID), embedded},
			{"get an organization", "GET", "/organization/" + bravo.ID, "/organization/" + missingID, nil, nil, embedded},
			{"update an organization", "PUT", "/organization/" + bravo.ID, "/organization/" + missingID,
				map[string]any{"name": "x"}, map[string]any{"name": "x"}, embedded},
			{"list accounts", "GET", "/organization/" + bravo.ID + "/account", "/organization/" + missingID + "/account", nil, nil, embedded},
			{"search accounts", "GET", "/organization/" + bravo.ID + "/account/search?q=cu", "/organization/" + missingID + "/account/search?q=cu", nil, nil, embedded},
			{"get an account of a foreign organization", "GET", "/organization/" + bravo.ID + "/account/" + bravoCU.ID,
				"/organization/" + missingID + "/account/" + missingID, nil, nil, embedded},
			{"update an account of a foreign organization", "PUT", "/organization/" + bravo.ID + "/account/" + bravoCU.ID,
				"/organization/" + missingID + "/account/" + missingID, map[string]any{"name": "x"}, map[string]any{"name": "x"}, embedded},
			{"get a foreign account", "GET", "/organization/" + acme.ID + "/account/" + bravoCU.ID,
				"/organization/" + acme.ID + "/account/" + missingID, nil, nil, embedded},
			{"update a foreign account", "PUT", "/organization/" + acme.ID + "/account/" + bravoCU.ID,
				"/organization/" + acme.ID + "/account/" + missingID, map[string]any{"name": "x"}, map[string]any{"name": "x"}, embedded},
			{"revoke an application token", "DELETE", "/application/reports/token/" + bravoToken, "/application/reports/token/" + missingID, nil, nil, embedded},
			{"get an institution", "GET", "/external/institutions/bravo-cu", "/external/institutions/nope-cu", nil, nil, reseller},
			{"update an institution", "PUT", "/external/institutions/bravo-cu", "/external/institutions/nope-cu",
				map[string]any{"name": "x"}, map[string]any{"name": "x"}, reseller},
			{"log in to an institution", "POST", "/external/institutions/bravo-cu/login", "/external/institutions/nope-cu/login", nil, nil, reseller},
		}
		// The id or key a request names may be repeated in its answer.
		ids := strings.NewReplacer(bravoUser, "<id>", bravoRole, "<id>", bravoToken, "<id>", bravo.ID, "<id>", bravoCU.ID, "<id>",
			missingID, "<id>", "bravo-cu", "<key>", "nope-cu", "<key>")
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				foreign := e.Do(c.method, c.foreignPath, c.foreignBody, c.headers...)
				missing := e.Do(c.method, c.missingPth, c.missingBdy, c.headers...)
				if foreign.Status < 400 || foreign.Status != missing.Status {
					t.Fatalf("foreign %d %s, missing %d %s", foreign.Status, foreign.Body, missing.Status, missing.Body)
				}
				if f, m := errorFields(t, foreign, ids), errorFields(t, missing, ids); !reflect.DeepEqual(f, m) {
					t.Fatalf("foreign answers %v, missing answers %v", f, m)
				}
			})
		}

		// Lists never show another tenant's objects.
		list := e.Do("GET", "/application/reports/token", nil, embedded...)
		if list.Status != 200 || strings.Contains(string(list.Body), bravoToken) {
			t.Fatalf("token list: %d %s", list.Status, list.Body)
		}

		// A uniqueness conflict with another tenant's email or key does
		// not confirm it: the answer neither repeats the value nor says it
		// exists.
		conflicts := []struct {
			name, method, path, value string
			body                      any
			headers                   []string
		}{
			{"create a user with a foreign email", "POST", "/users", "bella@bravo.test",
				map[string]any{"email": "bella@bravo.test", "username": "b", "password": "password of b", "roles": []string{"viewer"}}, embedded},
			{"change an email to a foreign one", "PUT", "/users/" + ownUser, "bella@bravo.test", map[string]any{"email": "bella@bravo.test"}, embedded},
			{"add an institution with a foreign key", "POST", "/external/institutions", "bravo-cu",
				map[string]any{"key": "bravo-cu", "name": "Mine", "core": "Symitar"}, reseller},
		}
		for _, c := range conflicts {
			t.Run(c.name, func(t *testing.T) {
				r := e.Do(c.method, c.path, c.body, c.headers...)
				body := strings.ToLower(string(r.Body))
				if r.Status != 409 || strings.Contains(body, c.value) || strings.Contains(body, "exist") || strings.Contains(body, "bravo") {
					t.Fatalf("%d %s", r.Status, r.Body)
				}
			})
		}
		// Within the caller's reach a conflict may say what it is.
		r := e.Do("POST", "/users", map[string]any{"email": "ursula@acme.test", "username": "u2", "password": "password of u2", "roles": []string{"viewer"}}, embedded...)
		if r.Status != 409 || !strings.Contains(string(r.Body), "already") {
			t.Fatalf("own duplicate email: %d %s", r.Status, r.Body)
		}
	})
}
