package embedded_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/app/apptest"
	"github.com/verigate/verigate/internal/authz"
	"github.com/verigate/verigate/internal/delivery"
)

// TestAuthorizationMatrix sends every Embedded route with no token, a
// token lacking the route's permission, a token of another organization,
// and the right token.
func TestAuthorizationMatrix(t *testing.T) {
	e := sqliteEnv(t)
	e.SeedReseller("acme", "acme-cu")
	e.SeedReseller("bravo", "bravo-cu")
	acme, _ := e.App.Access.Organization(e.System, "acme")
	cu, _ := e.App.Access.Organization(e.System, "acme-cu")
	right := signIn(t, e, person(t, e, "acme", "olivia", verigate.RoleOwner))["token"].(string)
	other := signIn(t, e, person(t, e, "bravo", "bob", verigate.RoleOwner))["token"].(string)
	// lacking mints, from the right token, one with every permission but p.
	lacking := func(p verigate.Permission) string {
		var perms []verigate.Permission
		for _, x := range verigate.Permissions {
			if x.Name != p {
				perms = append(perms, x.Name)
			}
		}
		r := e.Do("POST", "/application/matrix/token", map[string]any{"permissions": perms}, "Authorization", right)
		if r.Status != 201 {
			t.Fatalf("mint lacking %s: %d %s", p, r.Status, r.Body)
		}
		return r.JSON(t)["token"].(string)
	}
	n := 0
	unique := func() string { n++; return fmt.Sprint(n) }
	newUser := func() string {
		u := person(t, e, "acme", "u"+unique(), verigate.RoleViewer)
		got, _ := e.App.DB.GetUserByEmail(e.System, u)
		return got.ID
	}
	newRole := func() string {
		r := e.Do("POST", "/roles", map[string]any{"name": "r" + unique(), "permissions": []string{"users.read"}}, "Authorization", right)
		return r.JSON(t)["id"].(string)
	}
	newAppToken := func() string {
		r := e.Do("POST", "/application/matrix/token", map[string]any{"permissions": []string{"users.read"}}, "Authorization", right)
		return r.JSON(t)["id"].(string)
	}
	newWebhook := func() string {
		r := e.Do("POST", "/webhooks", map[string]any{"url": "https://hooks.example/" + unique()}, "Authorization", right)
		return r.JSON(t)["id"].(string)
	}
	// deliveredMessage is a webhook and a message of it already delivered
	// (so that it may be redelivered).
	work := delivery.NewWorker(e.App.Webhooks, &okReceiver{}, delivery.WorkerOptions{Sleep: func(context.Context, time.Duration) {}})
	deliveredMessage := func() string {
		id := newWebhook()
		m := e.Do("POST", "/webhooks/"+id+"/test", nil, "Authorization", right).JSON(t)["id"].(string)
		if _, err := work.Work(context.Background()); err != nil {
			t.Fatal(err)
		}
		return id + "/messages/" + m
	}
	type request struct {
		method, path string
		body         any
	}
	cases := []struct {
		pattern string
		req     func() request
		ok      int
		other   int // with another organization's token
	}{
		{"POST /application/{applicationId}/token", func() request {
			return request{"POST", "/application/matrix/token", map[string]any{"permissions": []string{"users.read"}, "accounts": []string{acme.ID}}}
		}, 201, 403},
		{"GET /application/{applicationId}/token", func() request { return request{"GET", "/application/matrix/token", nil} }, 200, 200},
		{"DELETE /application/{applicationId}/token/{tokenId}", func() request { return request{"DELETE", "/application/matrix/token/" + newAppToken(), nil} }, 204, 404},
		{"GET /users", func() request { return request{"GET", "/users?account=" + acme.ID, nil} }, 200, 404},
		{"POST /users", func() request {
			u := unique()
			return request{"POST", "/users", map[string]any{"email": "n" + u + "@acme.test", "username": "n" + u, "password": "password n", "roles": []string{"viewer"}, "account": acme.ID}}
		}, 201, 404},
		{"GET /users/{id}", func() request { return request{"GET", "/users/" + newUser(), nil} }, 200, 404},
		{"PUT /users/{id}", func() request { return request{"PUT", "/users/" + newUser(), map[string]any{"username": "renamed"}} }, 200, 404},
		{"DELETE /users/{id}", func() request { return request{"DELETE", "/users/" + newUser(), nil} }, 204, 404},
		{"POST /users/{id}/disable", func() request { return request{"POST", "/users/" + newUser() + "/disable", nil} }, 200, 404},
		{"PUT /users/{id}/roles", func() request {
			return request{"PUT", "/users/" + newUser() + "/roles", map[string]any{"roles": []string{"developer"}}}
		}, 200, 404},
		{"GET /roles", func() request { return request{"GET", "/roles", nil} }, 200, 200},
		{"POST /roles", func() request {
			return request{"POST", "/roles", map[string]any{"name": "x" + unique(), "permissions": []string{"users.read"}, "account": acme.ID}}
		}, 201, 404},
		{"GET /roles/{id}", func() request { return request{"GET", "/roles/" + newRole(), nil} }, 200, 404},
		{"PUT /roles/{id}", func() request {
			return request{"PUT", "/roles/" + newRole(), map[string]any{"name": "y" + unique(), "permissions": []string{}}}
		}, 200, 404},
		{"DELETE /roles/{id}", func() request { return request{"DELETE", "/roles/" + newRole(), nil} }, 204, 404},
		{"GET /organization/{orgId}", func() request { return request{"GET", "/organization/" + acme.ID, nil} }, 200, 404},
		{"PUT /organization/{orgId}", func() request {
			return request{"PUT", "/organization/" + acme.ID, map[string]any{"core": "c" + unique()}}
		}, 200, 404},
		{"GET /organization/{orgId}/account", func() request { return request{"GET", "/organization/" + acme.ID + "/account", nil} }, 200, 404},
		{"GET /organization/{orgId}/account/search", func() request { return request{"GET", "/organization/" + acme.ID + "/account/search?q=acme", nil} }, 200, 404},
		{"GET /organization/{orgId}/account/{accountId}", func() request { return request{"GET", "/organization/" + acme.ID + "/account/" + cu.ID, nil} }, 200, 404},
		{"PUT /organization/{orgId}/account/{accountId}", func() request {
			return request{"PUT", "/organization/" + acme.ID + "/account/" + cu.ID, map[string]any{"name": "CU " + unique()}}
		}, 200, 404},
		{"POST /webhooks", func() request {
			return request{"POST", "/webhooks", map[string]any{"url": "https://hooks.example/m", "account": acme.ID}}
		}, 201, 400},
		{"GET /webhooks", func() request { return request{"GET", "/webhooks", nil} }, 200, 200},
		{"GET /webhooks/{id}", func() request { return request{"GET", "/webhooks/" + newWebhook(), nil} }, 200, 404},
		{"PATCH /webhooks/{id}", func() request { return request{"PATCH", "/webhooks/" + newWebhook(), map[string]any{"enabled": false}} }, 200, 404},
		{"DELETE /webhooks/{id}", func() request { return request{"DELETE", "/webhooks/" + newWebhook(), nil} }, 204, 404},
		{"POST /webhooks/{id}/rotate-secret", func() request { return request{"POST", "/webhooks/" + newWebhook() + "/rotate-secret", nil} }, 200, 404},
		{"POST /webhooks/{id}/test", func() request { return request{"POST", "/webhooks/" + newWebhook() + "/test", nil} }, 202, 404},
		{"GET /webhooks/{id}/messages", func() request { return request{"GET", "/webhooks/" + newWebhook() + "/messages", nil} }, 200, 404},
		{"GET /webhooks/{id}/messages/{messageId}", func() request { return request{"GET", "/webhooks/" + deliveredMessage(), nil} }, 200, 404},
		{"POST /webhooks/{id}/messages/{messageId}/redeliver", func() request {
			return request{"POST", "/webhooks/" + deliveredMessage() + "/redeliver", nil}
		}, 202, 404},
		{"POST /webhooks/{id}/replay", func() request {
			return request{"POST", "/webhooks/" + newWebhook() + "/replay", map[string]any{"since": "2026-11-01T00:00:00Z"}}
		}, 202, 404},
		{"GET /events", func() request { return request{"GET", "/events", nil} }, 200, 200},
	}
	covered := []string{"POST /token"}
	for _, c := range cases {
		covered = append(covered, c.pattern)
		t.Run(c.pattern, func(t *testing.T) {
			rule := authz.Routes[c.pattern]
			if rule.Permission == "" {
				t.Fatalf("no permission in the table for %s", c.pattern)
			}
			do := func(tok string) *apptest.Response {
				r := c.req()
				var h []string
				if tok != "" {
					h = []string{"Authorization", tok}
				}
				return e.Do(r.method, r.path, r.body, h...)
			}
			wantError(t, do(""), 401, "unauthorized")
			wantError(t, do(lacking(rule.Permission)), 403, "forbidden")
			if got := do(other); got.Status != c.other {
				t.Fatalf("another organization's token: %d %s, want %d", got.Status, got.Body, c.other)
			} else if c.other == 200 && strings.Contains(string(got.Body), acme.ID) {
				t.Fatalf("another organization's token sees acme's data: %s", got.Body)
			}
			if got := do(right); got.Status != c.ok {
				t.Fatalf("the right token: %d %s, want %d", got.Status, got.Body, c.ok)
			}
		})
	}
	// Every Embedded route is in the matrix.
	for pattern := range authz.Routes {
		path := strings.SplitN(pattern, " ", 2)[1]
		for _, prefix := range []string{"/token", "/application/", "/users", "/roles", "/organization/", "/webhooks", "/events"} {
			if strings.HasPrefix(path, prefix) && !slices.Contains(covered, pattern) {
				t.Errorf("%s is missing from the matrix", pattern)
			}
		}
	}
}
