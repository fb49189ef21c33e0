package dashboard_test

import (
	"net/http"
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
