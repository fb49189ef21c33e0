package dashboard_test

import (
	"context"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/app/apptest"
)

// seedData gives organization acme (a reseller with institution acme-cu)
// something on every page: test-mode verifications, a connection waiting
// for a code, a call in the queue and a webhook endpoint with a delivery.
func seedData(t *testing.T, e *apptest.Env) {
	t.Helper()
	if _, err := e.App.Access.Organization(e.System, "acme"); err != nil {
		e.SeedReseller("acme", "acme-cu")
	}
	key, _, err := e.App.Access.CreateAPIKey(e.System, access.APIKeyInput{OrgKey: "acme", UserEmail: "svc@acme.test", Name: "seed",
		Scopes: []string{"verifications:create", "verifications:read", "accounts:write", "accounts:read", "webhooks:write", "webhooks:read"},
		Mode:   verigate.ModeTest, RateLimit: &verigate.RateLimitPolicy{TTL: time.Minute, Limit: 10000, BlockDuration: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	auth := []string{"Authorization", "Api-Key " + key}
	for _, name := range []string{"Ada Lovelace", "Grace Hopper"} {
		first, last, _ := strings.Cut(name, " ")
		if r := e.Do("POST", "/v1/verifications", map[string]any{"data": map[string]any{"firstName": first, "lastName": last,
			"email": strings.ToLower(first) + "@example.com", "activities": []string{"Sandbox Bank", "Sandbox Reclaim"}}}, auth...); r.Status != 201 {
			t.Fatalf("seed verification: %d %s", r.Status, r.Body)
		}
	}
	srcs, _ := e.App.Verify.Sources(e.System)
	for _, s := range srcs {
		if s.SourceName == "Sandbox Bank" {
			if r := e.Do("POST", "/v1/accounts", map[string]any{"source_id": s.ID, "credentials": map[string]string{"username": "otp", "password": "pass"}, "label": "otp"}, auth...); r.Status != 201 {
				t.Fatalf("seed connection: %d %s", r.Status, r.Body)
			}
		}
	}
	if _, err := e.App.Worker.Work(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r := e.Do("POST", "/v1/webhook-endpoints", map[string]any{"url": "http://127.0.0.1:9/hooks", "description": "seed"}, auth...); r.Status != 201 {
		t.Fatalf("seed webhook endpoint: %d %s", r.Status, r.Body)
	}
	inst, err := e.App.Access.Organization(e.System, "acme-cu")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.App.Calls.Simulate(e.System, inst, "+15555550123", "Ada Lovelace"); err != nil {
		t.Fatal(err)
	}
}

var dashLink = regexp.MustCompile(`href="(/dashboard/[^"#]*)"`)

// TestCrawl signs in as every built-in role, in live and test data, and
// opens every dashboard page linked from the overview onwards: each
// answers 200 (no page a role may not use is linked), none a 5xx; the
// navigation's pages a role does not see answer 403.
func TestCrawl(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		seedData(t, e)
		var orgs []string
		for _, key := range []string{"acme", "acme-cu"} {
			o, err := e.App.Access.Organization(e.System, key)
			if err != nil {
				t.Fatal(err)
			}
			orgs = append(orgs, o.ID)
		}
		for _, role := range verigate.BuiltinRoles {
			b := as(t, e, "acme", role)
			b.remote = "192.0.2.20:1"
			seen := map[string]bool{}
			for i, view := range []struct{ org, mode string }{{orgs[0], "live"}, {orgs[0], "test"}, {orgs[1], "test"}} {
				mode := view.mode
				if i == 2 {
					b.get("/dashboard/")
					if p := b.post("/dashboard/org", map[string][]string{"org": {view.org}}); p.Status != http.StatusSeeOther {
						t.Fatalf("%s: switch: %d", role, p.Status)
					}
				}
				b.get("/dashboard/")
				if p := b.post("/dashboard/mode", map[string][]string{"mode": {mode}}); p.Status != http.StatusSeeOther {
					t.Fatalf("%s: mode %s: %d", role, mode, p.Status)
				}
				queue := []string{"/dashboard/"}
				visited := map[string]bool{}
				for len(queue) > 0 && len(visited) < 80 {
					path := queue[0]
					queue = queue[1:]
					if visited[path] {
						continue
					}
					visited[path] = true
					p := b.get(path)
					if p.Status != 200 {
						t.Errorf("%s (%s data): linked page %s = %d %s", role, mode, path, p.Status, p.Text())
						continue
					}
					if !strings.Contains(p.Body, "<h1") {
						t.Errorf("%s: %s has no heading", role, path)
					}
					for _, m := range dashLink.FindAllStringSubmatch(p.Body, -1) {
						link := html.UnescapeString(m[1])
						if !visited[link] && !strings.HasPrefix(link, "/dashboard/sign-in") {
							queue = append(queue, link)
						}
					}
				}
				for path := range visited {
					seen[path] = true
				}
			}
			t.Logf("%s: %d pages", role, len(seen))
			// The sections not linked for this role are refused to it.
			for _, l := range []string{"/dashboard/verifications", "/dashboard/review", "/dashboard/calls", "/dashboard/connections",
				"/dashboard/api-keys", "/dashboard/webhooks", "/dashboard/users", "/dashboard/roles", "/dashboard/audit", "/dashboard/settings"} {
				if seen[l] {
					continue
				}
				if p := b.get(l); p.Status != http.StatusForbidden {
					t.Errorf("%s: %s is not linked but answers %d", role, l, p.Status)
				}
			}
		}
	})
}
