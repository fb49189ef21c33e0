package partner_test

import (
	"testing"
	"time"

	"github.com/verigate/verigate/internal/app/apptest"
	"github.com/verigate/verigate/internal/verification"
)

// create posts a session with allowedSources and returns the status.
func (f *fixture) create(t *testing.T, e *apptest.Env, key string, allowed ...any) *apptest.Response {
	t.Helper()
	params := map[string]any{"expiryDate": f.e.Clock.Now().Add(48 * time.Hour).Format(time.RFC3339)}
	if len(allowed) > 0 {
		params["allowedSources"] = allowed
	}
	return e.Do("POST", "/partner/session", map[string]any{"params": params}, "x-api-key", key)
}

// A create without Idempotency-Key runs at most 5 statements on its write
// path: its organization (with chain, state and number) in one read, then
// the session, its audit row and its created event, one INSERT each. The
// catalog and the source enablement come from the cache. (Before issue 10
// it ran 11: organization, chain state, catalog, chain, enablement, the
// session, audit, event, review policy, and BEGIN/COMMIT.)
func TestCreateStatementBudget(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := newFixture(t, e)
		if resp := f.create(t, e, f.test, f.sandboxReclaim); resp.Status != 201 { // warms the cache
			t.Fatalf("create: %d %s", resp.Status, resp.Body)
		}
		before := e.App.DB.QueryCount()
		resp := f.create(t, e, f.test, f.sandboxReclaim)
		if resp.Status != 201 {
			t.Fatalf("create: %d %s", resp.Status, resp.Body)
		}
		if n := e.App.DB.QueryCount() - before; n > 5 {
			t.Errorf("a create ran %d statements, want at most 5", n)
		}
		// The session's team is its organization's number, read in the
		// same query.
		if team := resp.JSON(t)["data"].(map[string]any)["teamId"]; team == nil || team == float64(0) {
			t.Errorf("teamId %v", team)
		}
	})
}

// The catalog cache: a change made through this process is honoured by
// the next create; one made by another process (a replica, the admin CLI)
// within CatalogTTL.
func TestCatalogCacheBound(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := newFixture(t, e)
		if resp := f.create(t, e, f.test, f.sandboxReclaim); resp.Status != 201 {
			t.Fatalf("create: %d %s", resp.Status, resp.Body)
		}
		// Through this process: at once.
		if err := e.App.Verify.SetSourceEnabled(e.System, "acme", "Sandbox Reclaim", false); err != nil {
			t.Fatal(err)
		}
		if resp := f.create(t, e, f.test, f.sandboxReclaim); resp.Status != 400 {
			t.Fatalf("create with a source just disabled here: %d %s", resp.Status, resp.Body)
		}
		if err := e.App.Verify.SetSourceEnabled(e.System, "acme", "Sandbox Reclaim", true); err != nil {
			t.Fatal(err)
		}
		if resp := f.create(t, e, f.test, f.sandboxReclaim); resp.Status != 201 {
			t.Fatalf("create with a source just enabled here: %d %s", resp.Status, resp.Body)
		}
		// Through another process: within the TTL.
		other := e.Replica()
		if err := other.App.Verify.SetSourceEnabled(other.System, "acme", "Sandbox Reclaim", false); err != nil {
			t.Fatal(err)
		}
		if resp := f.create(t, e, f.test, f.sandboxReclaim); resp.Status != 201 {
			t.Fatalf("before the TTL the cached enablement answers: %d %s", resp.Status, resp.Body)
		}
		e.Clock.Advance(verification.CatalogTTL)
		if resp := f.create(t, e, f.test, f.sandboxReclaim); resp.Status != 400 {
			t.Fatalf("after the TTL a source disabled elsewhere: %d %s", resp.Status, resp.Body)
		}
		// An import through this process is usable at once.
		if _, err := e.App.Verify.ImportSources(e.System, []byte(`{"sources": [{"sourceName": "Fresh Bank",
			"name": "Fresh Bank", "kind": "connector", "verificationTypeId": 1}]}`)); err != nil {
			t.Fatal(err)
		}
		if resp := f.create(t, e, f.live, map[string]any{"name": "Fresh Bank"}); resp.Status != 201 {
			t.Fatalf("create with a source just imported here: %d %s", resp.Status, resp.Body)
		}
	})
}
