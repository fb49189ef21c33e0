package dashboard_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/verigate/verigate/internal/app/apptest"
)

var secretBox = regexp.MustCompile(`class="secret"[^>]*>([^<]+)<`)

// keyForm is a valid new-key form; changes override its fields.
func keyForm(changes ...string) url.Values {
	f := url.Values{"name": {"ci"}, "scope": {"verifications:read"}, "mode": {"live"}, "rateLimit": {"100"}, "window": {"1m"}}
	for i := 0; i+1 < len(changes); i += 2 {
		f[changes[i]] = []string{changes[i+1]}
	}
	return f
}

func keyCount(t *testing.T, e *apptest.Env, org string) int {
	t.Helper()
	keys, err := e.App.Access.ListAPIKeys(e.System, org)
	if err != nil {
		t.Fatal(err)
	}
	return len(keys)
}

func TestAPIKeysCreateUseRevoke(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := as(t, e, "acme", "admin")
		p := admin.get("/dashboard/api-keys")
		if p.Status != 200 || !strings.Contains(p.Text(), "No API keys yet") || !strings.Contains(p.Body, `value="verifications:read"`) ||
			!strings.Contains(p.Body, `value="accounts:read"`) || !strings.Contains(p.Body, `value="users:read"`) {
			t.Fatalf("empty page: %d %s", p.Status, p.Body)
		}
		// An admin holds no organizations.create: never offered.
		if strings.Contains(p.Body, `value="organizations:create"`) {
			t.Error("offered a scope the person lacks")
		}
		p = admin.post("/dashboard/api-keys", keyForm("scope", "verifications:read", "expires", e.Clock.Now().AddDate(0, 1, 0).Format("2006-01-02")))
		save(t, "apikeys", p)
		m := secretBox.FindStringSubmatch(p.Body)
		if p.Status != 200 || m == nil || !strings.Contains(p.Text(), "will not be shown again") {
			t.Fatalf("create: %d %s", p.Status, p.Text())
		}
		key := html.UnescapeString(strings.TrimSpace(m[1]))
		if cc := p.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
			t.Errorf("Cache-Control %q", cc)
		}
		txt := p.Text()
		for _, want := range []string{"ci", key[:12], "verifications:read", "100 per minute", "live", "active"} {
			if !strings.Contains(txt, want) {
				t.Errorf("list lacks %q: %s", want, txt)
			}
		}
		// The key works on /v1, acting as the admin.
		if r := e.Do("GET", "/v1/verifications", nil, "Authorization", "Api-Key "+key); r.Status != 200 {
			t.Fatalf("use: %d %s", r.Status, r.Body)
		}
		// Shown once: the next page has no secret.
		p = admin.get("/dashboard/api-keys")
		if strings.Contains(p.Body, key) || secretBox.MatchString(p.Body) {
			t.Fatal("secret shown again")
		}
		if !strings.Contains(p.Text(), "Never") && !strings.Contains(p.Text(), "UTC") {
			t.Errorf("no last use: %s", p.Text())
		}
		id := key[4:12]
		// Revoke; the next call is refused.
		p = admin.post("/dashboard/api-keys/"+id+"/revoke", nil)
		if p.Status != http.StatusSeeOther {
			t.Fatalf("revoke: %d %s", p.Status, p.Text())
		}
		if p := admin.follow(p); !strings.Contains(p.Text(), "revoked") || strings.Contains(p.Body, "/dashboard/api-keys/"+id+"/revoke") {
			t.Fatalf("after revoke: %s", p.Text())
		}
		if r := e.Do("GET", "/v1/verifications", nil, "Authorization", "Api-Key "+key); r.Status != 401 {
			t.Fatalf("revoked key: %d %s", r.Status, r.Body)
		}
		if p := admin.post("/dashboard/api-keys/"+id+"/revoke", nil); p.Status != 409 {
			t.Errorf("revoke twice: %d", p.Status)
		}

		// Another tenant's key, and malformed ids: missing.
		other := as(t, e, "beta", "admin")
		other.get("/dashboard/api-keys")
		p = other.post("/dashboard/api-keys", keyForm())
		if p.Status != 200 {
			t.Fatalf("beta create: %d", p.Status)
		}
		otherID := html.UnescapeString(secretBox.FindStringSubmatch(p.Body)[1])[4:12]
		for _, bad := range []string{otherID, "ZZZ", "00000000"} {
			if p := admin.post("/dashboard/api-keys/"+bad+"/revoke", nil); p.Status != 404 {
				t.Errorf("revoke %s: %d", bad, p.Status)
			}
		}
		if strings.Contains(admin.get("/dashboard/api-keys").Body, otherID) {
			t.Error("another tenant's key listed")
		}
	})
}

func TestAPIKeysBadInput(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := as(t, e, "acme", "admin")
		admin.get("/dashboard/api-keys")
		past := e.Clock.Now().AddDate(0, 0, -2).Format("2006-01-02")
		for _, c := range []struct {
			name string
			form url.Values
			want string
		}{
			{"unknown scope", keyForm("scope", "nope:read"), "unknown scope"},
			{"no scope", keyForm("scope", ""), "scope"},
			{"no name", keyForm("name", ""), "name"},
			{"long name", keyForm("name", strings.Repeat("n", 101)), "name"},
			{"rate 0", keyForm("rateLimit", "0"), "between 1 and 1000000"},
			{"rate huge", keyForm("rateLimit", "99999999999"), "rateLimit"},
			{"rate above the default", keyForm("rateLimit", "1000", "window", "1s"), "default of 100"},
			{"rate text", keyForm("rateLimit", "lots"), "whole number"},
			{"window", keyForm("window", "1y"), "rateLimit.ttl"},
			{"bad date", keyForm("expires", "2026-13-45"), "YYYY-MM-DD"},
			{"past date", keyForm("expires", past), "future"},
			{"mode", keyForm("mode", "prod"), "live or test"},
			{"account", keyForm("accounts", "someone-else"), "accounts"},
		} {
			c.form.Set("name", c.form.Get("name"))
			if c.name != "no name" && c.name != "long name" {
				c.form.Set("name", "kept name "+c.name)
			}
			p := admin.post("/dashboard/api-keys", c.form)
			if p.Status != 422 || !strings.Contains(p.Text(), c.want) || !strings.Contains(p.Body, `name="name" value="`+html.EscapeString(c.form.Get("name"))+`"`) ||
				secretBox.MatchString(p.Body) {
				t.Errorf("%s: %d %s", c.name, p.Status, p.Text())
			}
		}
		if n := keyCount(t, e, "acme"); n != 0 {
			t.Fatalf("%d keys created by bad input", n)
		}
		// A scope the person lacks, posted anyway: the service refuses.
		dev := as(t, e, "acme", "developer")
		if p := dev.get("/dashboard/api-keys"); p.Status != 200 || strings.Contains(p.Body, `value="calls:read"`) || !strings.Contains(p.Body, `value="webhooks:write"`) {
			t.Fatalf("developer page: %d", p.Status)
		}
		if p := dev.post("/dashboard/api-keys", keyForm("scope", "calls:read")); p.Status != 403 || !strings.Contains(p.Text(), "does not hold") || secretBox.MatchString(p.Body) {
			t.Fatalf("lacking scope: %d %s", p.Status, p.Text())
		}
		// A developer (no users.read) creates a key acting as itself.
		if p := dev.post("/dashboard/api-keys", keyForm("scope", "webhooks:read", "mode", "test", "accounts", "")); p.Status != 200 || !secretBox.MatchString(p.Body) {
			t.Fatalf("developer create: %d %s", p.Status, p.Text())
		}
		if n := keyCount(t, e, "acme"); n != 1 {
			t.Fatalf("%d keys", n)
		}
	})
}

func TestAPIKeysViewer(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		admin := as(t, e, "acme", "admin")
		admin.get("/dashboard/api-keys")
		p := admin.post("/dashboard/api-keys", keyForm("name", "shared key"))
		id := html.UnescapeString(secretBox.FindStringSubmatch(p.Body)[1])[4:12]
		viewer := as(t, e, "acme", "viewer")
		if p := viewer.get("/dashboard/"); !strings.Contains(p.Body, `href="/dashboard/api-keys"`) {
			t.Error("no API keys link for a viewer")
		}
		// The page lists a person's own keys (as /api/me/api-keys does).
		p = viewer.get("/dashboard/api-keys")
		if p.Status != 200 || strings.Contains(p.Text(), "shared key") || strings.Contains(p.Text(), "Create a key") || strings.Contains(p.Body, "/revoke") {
			t.Fatalf("viewer page: %d %s", p.Status, p.Text())
		}
		if p := viewer.post("/dashboard/api-keys", keyForm()); p.Status != 403 {
			t.Errorf("viewer create: %d", p.Status)
		}
		if p := viewer.post("/dashboard/api-keys/"+id+"/revoke", nil); p.Status != 403 {
			t.Errorf("viewer revoke: %d", p.Status)
		}
		if n := keyCount(t, e, "acme"); n != 1 {
			t.Fatalf("%d keys", n)
		}
		// A developer may manage keys, but only their own: the admin's key
		// is neither listed nor revoked for them (it answers as missing).
		dev := as(t, e, "acme", "developer")
		if p := dev.get("/dashboard/api-keys"); p.Status != 200 || strings.Contains(p.Text(), "shared key") {
			t.Fatalf("developer page: %d %s", p.Status, p.Text())
		}
		if p := dev.post("/dashboard/api-keys/"+id+"/revoke", nil); p.Status != 404 {
			t.Errorf("developer revoking the admin's key: %d", p.Status)
		}
		if p := admin.get("/dashboard/api-keys"); !strings.Contains(p.Text(), "shared key") || !strings.Contains(p.Text(), "active") {
			t.Fatalf("the admin's key after the developer's attempt: %s", p.Text())
		}
		// An operator holds no api-keys permission: no link, 403.
		op := as(t, e, "acme", "operator")
		if p := op.get("/dashboard/"); strings.Contains(p.Body, `href="/dashboard/api-keys"`) {
			t.Error("API keys link for an operator")
		}
		if p := op.get("/dashboard/api-keys"); p.Status != 403 {
			t.Errorf("operator page: %d", p.Status)
		}
	})
}
