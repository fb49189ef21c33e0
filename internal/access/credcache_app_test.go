package access_test

import (
	"context"
	"testing"

	"github.com/verigate/verigate/internal/app/apptest"
)

// TestCacheTwoServers: two servers on one database, every credential
// warm in both caches. Disabling the organization on one refuses its next
// request at once, and the other's after its next poll of the store's
// generation.
func TestCacheTwoServers(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		k := e.SeedKeys("acme")
		other := e.Replica()
		paths := []string{"/external/institutions", "/users"}
		for _, env := range []*apptest.Env{e, other} {
			for _, p := range paths {
				if r := env.Do("GET", p, nil, k.Headers(p)...); r.Status != 200 {
					t.Fatalf("GET %s: %d %s", p, r.Status, r.Body)
				}
			}
		}
		if _, err := e.App.Access.DisableOrganization(e.System, "acme"); err != nil {
			t.Fatal(err)
		}
		if err := other.App.Access.RefreshCredentialCache(context.Background()); err != nil {
			t.Fatal(err)
		}
		for _, env := range []*apptest.Env{e, other} {
			for _, p := range paths {
				if r := env.Do("GET", p, nil, k.Headers(p)...); r.Status != 401 {
					t.Fatalf("GET %s after the organization's disable: %d %s", p, r.Status, r.Body)
				}
			}
		}
	})
}
