package v1_test

import (
	"testing"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/app/apptest"
)

// TestRestrictedAccounts: a key's account list may mix organizations and
// connections; it reaches exactly those, creates its connections within
// them, and cannot be created naming anything else.
func TestRestrictedAccounts(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := newFixture(t, e)
		own := f.connect(t, "otp")   // in acme, the key's own organization
		other := f.connect(t, "otp") // also in acme, not listed
		cu, err := e.App.Access.Organization(e.System, "acme-cu")
		if err != nil {
			t.Fatal(err)
		}
		mixed := makeKey(t, e, "acme", access.APIKeyInput{Scopes: allScopes, Accounts: []string{cu.ID, own}})
		if r := e.Do("GET", "/v1/accounts/"+own+"/status", nil, "x-api-key", mixed); r.Status != 200 {
			t.Fatalf("listed connection: %d %s", r.Status, r.Body)
		}
		wantError(t, e.Do("GET", "/v1/accounts/"+other+"/status", nil, "x-api-key", mixed), 403, "FORBIDDEN")

		// A connection the restricted key creates lands in its listed
		// organization, where the key can use it.
		onlyCU := makeKey(t, e, "acme", access.APIKeyInput{Scopes: allScopes, Accounts: []string{cu.ID}})
		r := e.Do("POST", "/v1/accounts", map[string]any{"source_id": f.sandbox, "credentials": map[string]string{"username": "otp", "password": "pass"}},
			"x-api-key", onlyCU)
		if r.Status != 201 {
			t.Fatalf("create as restricted key: %d %s", r.Status, r.Body)
		}
		id := r.JSON(t)["account_id"].(string)
		if r := e.Do("GET", "/v1/accounts/"+id+"/status", nil, "x-api-key", onlyCU); r.Status != 200 {
			t.Fatalf("restricted key's own new connection: %d %s", r.Status, r.Body)
		}
		if c, _ := e.App.DB.GetConnection(e.System, id); c == nil || c.OrgID != cu.ID {
			t.Fatalf("connection landed in %v, want %s", c, cu.ID)
		}

		// A key with a list creates in the first organization it names; a key
		// restricted to connections only creates nothing.
		create := func(key string) *apptest.Response {
			return e.Do("POST", "/v1/accounts", map[string]any{"source_id": f.sandbox, "credentials": map[string]string{"username": "otp", "password": "pass"}},
				"x-api-key", key)
		}
		r = create(mixed)
		if r.Status != 201 {
			t.Fatalf("create as mixed key: %d %s", r.Status, r.Body)
		}
		if c, _ := e.App.DB.GetConnection(e.System, r.JSON(t)["account_id"].(string)); c == nil || c.OrgID != cu.ID {
			t.Fatalf("mixed key's connection landed in %v, want %s", c, cu.ID)
		}
		connOnly := makeKey(t, e, "acme", access.APIKeyInput{Scopes: allScopes, Accounts: []string{own}})
		wantError(t, create(connOnly), 403, "FORBIDDEN")
		// Nor does anything get created in a disabled organization.
		if _, err := e.App.Access.DisableOrganization(e.System, "acme-cu"); err != nil {
			t.Fatal(err)
		}
		wantError(t, create(onlyCU), 403, "FORBIDDEN")

		// Entries that name nothing the user reaches are refused.
		e.SeedReseller("bravo", "bravo-cu")
		bravo, _ := e.App.Access.Organization(e.System, "bravo")
		for _, bad := range []string{"no-such-org", bravo.ID} {
			_, _, err := e.App.Access.CreateAPIKey(e.System, access.APIKeyInput{OrgKey: "acme", UserEmail: "svc@acme.test",
				Scopes: allScopes, Mode: verigate.ModeTest, Accounts: []string{cu.ID, bad}})
			if verigate.ErrorCode(err) != verigate.EINVALID {
				t.Fatalf("accounts naming %s: %v", bad, err)
			}
		}
	})
}
