package dashboard_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/verigate/verigate/internal/app/apptest"
)

// TestLoginURLsOpenOnce: the URLs of Confirm's login-as and user-token
// calls each open the institution's dashboard once; the second use is
// refused with a page saying so, and sets no session.
func TestLoginURLsOpenOnce(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		r := e.SeedReseller("conf", "conf-cu", "conf-bank")
		sso := e.Do("POST", "/external/token/request", map[string]string{"email": r.Email, "password": r.Password}, "accessToken", r.AccessToken).JSON(t)["token"].(string)
		for name, issue := range map[string]func() *apptest.Response{
			"login-as": func() *apptest.Response {
				return e.Do("POST", "/external/institutions/conf-bank/login", nil, "SsoToken", sso, "RequestedBy", "asmith")
			},
			"user token": func() *apptest.Response {
				return e.Do("POST", "/external/token/request/user", nil, "SsoToken", sso, "InstitutionKey", "conf-bank", "RequestedBy", "asmith")
			},
		} {
			resp := issue()
			if resp.Status != 200 {
				t.Fatalf("%s: %d %s", name, resp.Status, resp.Body)
			}
			path := strings.TrimPrefix(resp.JSON(t)["url"].(string), "https://verigate.test")
			b := newBrowser(t, e)
			if p := b.get(path); p.Status != http.StatusSeeOther || p.Location() != "/dashboard/" || b.cookies["vg_dash"] == "" {
				t.Fatalf("%s, first use: %d %q", name, p.Status, p.Location())
			}
			p := b.get("/dashboard/")
			if p.Status != 200 || !strings.Contains(p.Text(), "Institution conf-bank") || !strings.Contains(p.Text(), "asmith") {
				t.Fatalf("%s: the dashboard it opened: %d %s", name, p.Status, p.Text())
			}
			// An operator's pages, not the issuing account's: calls, no users.
			if !strings.Contains(p.Body, `href="/dashboard/calls"`) || strings.Contains(p.Body, `href="/dashboard/users"`) {
				t.Errorf("%s: the navigation of a login-link session: %s", name, p.Text())
			}
			if p := b.get("/dashboard/users"); p.Status != http.StatusForbidden {
				t.Errorf("%s: users page: %d", name, p.Status)
			}
			// Confined to that institution: no switcher, and no other.
			if strings.Contains(p.Body, `action="/dashboard/org"`) {
				t.Errorf("%s: a login-as session offers the organization switcher", name)
			}
			if p := b.post("/dashboard/org", map[string][]string{"org": {"conf-cu"}}); p.Status != http.StatusNotFound {
				t.Errorf("%s: switching away: %d", name, p.Status)
			}
			again := newBrowser(t, e)
			if p := again.get(path); p.Status != http.StatusUnauthorized || !strings.Contains(p.Text(), "already been used") || len(again.cookies) > 0 && again.cookies["vg_dash"] != "" {
				t.Fatalf("%s, second use: %d %s", name, p.Status, p.Text())
			}
			// The first browser's session goes on.
			if p := b.get("/dashboard/"); p.Status != 200 {
				t.Fatalf("%s: the session after the second use: %d", name, p.Status)
			}
		}
	})
}

// TestLoginURLFromAnotherSite: a signed-in person who follows a login
// URL from another site is asked first; the link is not used until then.
func TestLoginURLFromAnotherSite(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		r := e.SeedReseller("conf", "conf-cu")
		sso := e.Do("POST", "/external/token/request", map[string]string{"email": r.Email, "password": r.Password}, "accessToken", r.AccessToken).JSON(t)["token"].(string)
		path := strings.TrimPrefix(e.Do("POST", "/external/institutions/conf-cu/login", nil, "SsoToken", sso, "RequestedBy", "mallory").JSON(t)["url"].(string), "https://verigate.test")
		victim := as(t, e, "acme", "reviewer")
		mine := victim.cookies["vg_dash"]
		victim.header.Set("Sec-Fetch-Site", "cross-site")
		p := victim.get(path)
		if p.Status != 200 || !strings.Contains(p.Text(), "Open another dashboard?") || victim.cookies["vg_dash"] != mine {
			t.Fatalf("cross-site login link: %d %s", p.Status, p.Text())
		}
		victim.header.Del("Sec-Fetch-Site")
		if p := victim.get("/dashboard/"); p.Status != 200 || !strings.Contains(p.Text(), "reviewer@acme.test") {
			t.Fatalf("the session after declining: %d", p.Status)
		}
		// The link was not used: saying yes (the confirmation's form) uses it.
		token := strings.TrimPrefix(path, "/dashboard/sso?token=")
		if p := victim.post("/dashboard/sso", url.Values{"token": {token}, "csrf": {"forged"}}); p.Status != 403 {
			t.Fatalf("confirmation with a forged form token: %d", p.Status)
		}
		victim.get("/dashboard/")
		if p := victim.post("/dashboard/sso", url.Values{"token": {token}}); p.Status != 303 || p.Location() != "/dashboard/" || victim.cookies["vg_dash"] == mine {
			t.Fatalf("confirmed: %d %q", p.Status, p.Location())
		}
		if p := victim.get("/dashboard/"); !strings.Contains(p.Text(), "Institution conf-cu") || !strings.Contains(p.Text(), "mallory") {
			t.Fatalf("after confirming: %s", p.Text())
		}
		// The session it replaced is over.
		old := newBrowser(t, e)
		old.cookies["vg_dash"] = mine
		if p := old.get("/dashboard/"); p.Status != 303 {
			t.Fatalf("the replaced session: %d", p.Status)
		}
	})
}
