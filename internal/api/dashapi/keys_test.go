package dashapi_test

import (
	"slices"
	"testing"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/app/apptest"
)

type keyList struct {
	Keys []struct {
		ID         string   `json:"id"`
		Name       string   `json:"name"`
		Prefix     string   `json:"prefix"`
		Scopes     []string `json:"scopes"`
		AccountIDs []string `json:"account_ids"`
		CreatedAt  string   `json:"created_at"`
		LastUsedAt *string  `json:"last_used_at"`
		RevokedAt  *string  `json:"revoked_at"`
		Key        *string  `json:"key"`
	} `json:"keys"`
	AvailableScopes []string `json:"available_scopes"`
}

func listKeys(t *testing.T, e *apptest.Env, tok string) keyList {
	t.Helper()
	r := e.Do("GET", "/api/me/api-keys", nil, bearer(tok)...)
	if r.Status != 200 {
		t.Fatalf("list: %d %s", r.Status, r.Body)
	}
	var l keyList
	r.Decode(t, &l)
	return l
}

func TestMyAPIKeys(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		e.SeedReseller("acme", "acme-cu")
		dev := login(t, e, person(t, e, "acme", "dev", verigate.RoleDeveloper))
		admin := login(t, e, person(t, e, "acme", "adm", verigate.RoleAdmin))
		l := listKeys(t, e, dev)
		if len(l.Keys) != 0 || !slices.Contains(l.AvailableScopes, "status:read") || slices.Contains(l.AvailableScopes, "otp:write") {
			t.Fatalf("a developer's list: %+v", l)
		}

		r := e.Do("POST", "/api/me/api-keys", map[string]any{"name": "ci", "scopes": []string{"status:read", "webhooks:read"}}, bearer(dev)...)
		if r.Status != 201 {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		created := r.JSON(t)
		secret, _ := created["key"].(string)
		id := created["id"].(string)
		if secret == "" || created["prefix"] != "vgk_"+id || created["revoked_at"] != nil || created["last_used_at"] != nil {
			t.Fatalf("created: %s", r.Body)
		}
		// The key works on /v1 as the developer (status:read: a missing
		// account is 404, not 401 or 403), and is listed without its secret.
		if r := e.Do("GET", "/v1/accounts/00000000-0000-4000-8000-000000000000/status", nil, "x-api-key", secret); r.Status != 404 {
			t.Fatalf("the new key on /v1: %d %s", r.Status, r.Body)
		}
		l = listKeys(t, e, dev)
		if len(l.Keys) != 1 || l.Keys[0].ID != id || l.Keys[0].Key != nil || l.Keys[0].Name != "ci" || l.Keys[0].LastUsedAt == nil ||
			!slices.Equal(l.Keys[0].Scopes, []string{"status:read", "webhooks:read"}) || l.Keys[0].AccountIDs == nil {
			t.Fatalf("after create: %+v", l)
		}
		// Another user's keys are not mine: not listed, not revocable.
		if l := listKeys(t, e, admin); len(l.Keys) != 0 {
			t.Fatalf("the admin sees the developer's key: %+v", l)
		}
		missing := wantError(t, e.Do("DELETE", "/api/me/api-keys/0badc0de", nil, bearer(admin)...), 404)
		if msg := wantError(t, e.Do("DELETE", "/api/me/api-keys/"+id, nil, bearer(admin)...), 404); msg != missing {
			t.Fatalf("another user's key: %q, a missing one: %q", msg, missing)
		}
		wantError(t, e.Do("DELETE", "/api/me/api-keys/NOT-AN-ID", nil, bearer(dev)...), 404)

		if r := e.Do("DELETE", "/api/me/api-keys/"+id, nil, bearer(dev)...); r.Status != 204 || len(r.Body) != 0 {
			t.Fatalf("revoke: %d %s", r.Status, r.Body)
		}
		if r := e.Do("GET", "/v1/accounts/00000000-0000-4000-8000-000000000000/status", nil, "x-api-key", secret); r.Status != 401 {
			t.Fatalf("a revoked key on /v1: %d %s", r.Status, r.Body)
		}
		if l := listKeys(t, e, dev); len(l.Keys) != 1 || l.Keys[0].RevokedAt == nil {
			t.Fatalf("after revoke: %+v", l)
		}
		wantError(t, e.Do("DELETE", "/api/me/api-keys/"+id, nil, bearer(dev)...), 409)
	})
}

func TestMyAPIKeysRefusals(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		e.SeedReseller("acme", "acme-cu")
		e.SeedReseller("beta", "beta-cu")
		dev := login(t, e, person(t, e, "acme", "dev", verigate.RoleDeveloper))
		viewer := login(t, e, person(t, e, "acme", "viewer", verigate.RoleViewer))
		beta, err := e.App.Access.Organization(e.System, "beta-cu")
		if err != nil {
			t.Fatal(err)
		}
		before := e.Dump()
		for _, c := range []struct {
			tok    string
			body   any
			status int
		}{
			// Delegation: a developer does not hold otp.write.
			{dev, map[string]any{"name": "x", "scopes": []string{"otp:write"}}, 403},
			{dev, map[string]any{"name": "x", "scopes": []string{"status:read", "users:create"}}, 403},
			// A viewer may not create keys at all.
			{viewer, map[string]any{"name": "x", "scopes": []string{"status:read"}}, 403},
			// Bad input.
			{dev, map[string]any{"scopes": []string{"status:read"}}, 400},
			{dev, map[string]any{"name": "x"}, 400},
			{dev, map[string]any{"name": "x", "scopes": []string{}}, 400},
			{dev, map[string]any{"name": "x", "scopes": []string{"nonsense:do"}}, 400},
			{dev, map[string]any{"name": "x", "scopes": "status:read"}, 400},
			{dev, map[string]any{"name": "x", "scopes": []string{"status:read"}, "account_ids": []string{beta.ID}}, 400},
			{dev, map[string]any{"name": "x", "scopes": []string{"status:read"}, "mode": "test"}, 400},
			{dev, `{"name":"x","scopes":["status:read"]`, 400},
			{dev, `{"name":"x\u0000","scopes":["status:read"]}`, 400},
		} {
			r := e.Do("POST", "/api/me/api-keys", c.body, append(bearer(c.tok), "Content-Type", "application/json")...)
			wantError(t, r, c.status)
		}
		if after := e.Dump(); after != before {
			t.Fatal("a refused create wrote something")
		}
		// A viewer lists (its own, none) but has nothing to revoke.
		if l := listKeys(t, e, viewer); len(l.Keys) != 0 {
			t.Fatalf("viewer: %+v", l)
		}
		wantError(t, e.Do("DELETE", "/api/me/api-keys/0badc0de", nil, bearer(viewer)...), 403)
	})
}
