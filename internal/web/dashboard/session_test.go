package dashboard_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/verigate/verigate/internal/app/apptest"
)

func TestSignInAndOut(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		email, password := seedUser(t, e, "acme", "admin")
		// Not signed in: to the sign-in page, remembering where.
		anon := newBrowser(t, e)
		p := anon.get("/dashboard/?status=x")
		if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location(), "/dashboard/sign-in?next=") {
			t.Fatalf("anonymous: %d %q", p.Status, p.Location())
		}
		b := signIn(t, e, email, password)
		home := b.get("/dashboard/")
		if home.Status != 200 || !strings.Contains(home.Text(), "Overview") || !strings.Contains(home.Text(), email) {
			t.Fatalf("overview: %d %s", home.Status, home.Text())
		}
		if csp := home.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("CSP %q", csp)
		}
		// The data switch returns to the section the person was in.
		b.get("/dashboard/")
		if p := b.post("/dashboard/mode", url.Values{"mode": {"test"}, "back": {"/dashboard/verifications"}}); p.Status != http.StatusSeeOther || p.Location() != "/dashboard/verifications" {
			t.Fatalf("mode: %d %q", p.Status, p.Location())
		}
		if p := b.get("/dashboard/"); !strings.Contains(p.Text(), "Test data") {
			t.Fatalf("after switching to test data: %s", p.Text())
		}
		if p := b.post("/dashboard/mode", url.Values{"mode": {"staging"}}); p.Status != http.StatusUnprocessableEntity && p.Status != http.StatusBadRequest {
			t.Fatalf("mode staging: %d", p.Status)
		}
		old := b.cookies["vg_dash"]
		// Signing out ends the session, not just the cookie.
		out := b.post("/dashboard/sign-out", nil)
		if out.Status != http.StatusSeeOther || b.cookies["vg_dash"] != "" {
			t.Fatalf("sign out: %d %v", out.Status, b.cookies)
		}
		b.cookies["vg_dash"] = old
		if p := b.get("/dashboard/"); p.Status != http.StatusSeeOther {
			t.Fatalf("old cookie after sign-out: %d", p.Status)
		}
	})
}

func TestSignInRefusals(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		email, password := seedUser(t, e, "acme", "viewer")
		b := newBrowser(t, e)
		b.get("/dashboard/sign-in")
		if p := b.post("/dashboard/sign-in", url.Values{"email": {email}, "password": {"wrong"}}); p.Status != 401 || !strings.Contains(p.Text(), "do not match") {
			t.Fatalf("wrong password: %d %s", p.Status, p.Text())
		}
		// Without the form's token (login CSRF): nothing is checked.
		if p := b.post("/dashboard/sign-in", url.Values{"email": {email}, "password": {password}, "csrf": {"forged"}}); p.Status != 403 {
			t.Fatalf("forged token: %d %s", p.Status, p.Text())
		}
		// From another site's page.
		b.header.Set("Origin", "https://evil.example")
		if p := b.post("/dashboard/sign-in", url.Values{"email": {email}, "password": {password}}); p.Status != 403 {
			t.Fatalf("cross-origin: %d", p.Status)
		}
		b.header.Del("Origin")
		// The per-address limit, then the account lockout.
		limited := false
		for i := 0; i < 40 && !limited; i++ {
			p := b.post("/dashboard/sign-in", url.Values{"email": {email}, "password": {"wrong"}})
			limited = p.Status == http.StatusTooManyRequests
		}
		if !limited {
			t.Fatal("no limit after 40 wrong passwords")
		}
		// Only the next path within the dashboard is followed.
		c := newBrowser(t, e)
		c.get("/dashboard/sign-in?next=//evil.example/x")
		c.remote = "192.0.2.77:1"
		e.Clock.Advance(3600e9)
		p := c.post("/dashboard/sign-in", url.Values{"email": {email}, "password": {password}, "next": {"//evil.example/x"}})
		if p.Status != http.StatusSeeOther || p.Location() != "/dashboard/" {
			t.Fatalf("next: %d %q %s", p.Status, p.Location(), p.Text())
		}
	})
}

func TestSessionLifetime(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		email, password := seedUser(t, e, "acme", "viewer")
		b := signIn(t, e, email, password)
		first := b.cookies["vg_dash"]
		// Signing in again gives a new session id and ends the old one.
		b.get("/dashboard/sign-in?next=/dashboard/")
		delete(b.cookies, "vg_dash")
		b.cookies["vg_dash"] = first
		b2 := signIn(t, e, email, password)
		if b2.cookies["vg_dash"] == first {
			t.Fatal("same session id after a new sign-in")
		}
		// Idle: 25 minutes apart keeps it alive; 31 minutes ends it.
		for i := 0; i < 3; i++ {
			e.Clock.Advance(25 * 60e9)
			if p := b2.get("/dashboard/"); p.Status != 200 {
				t.Fatalf("after %d×25 min of use: %d", i+1, p.Status)
			}
		}
		e.Clock.Advance(32 * 60e9)
		if p := b2.get("/dashboard/"); p.Status != http.StatusSeeOther {
			t.Fatalf("after 32 idle minutes: %d", p.Status)
		}
		// The absolute cap: used every 20 minutes, it still ends at 12 h.
		b3 := signIn(t, e, email, password)
		ended := false
		for i := 0; i < 40 && !ended; i++ {
			e.Clock.Advance(20 * 60e9)
			ended = b3.get("/dashboard/").Status != 200
		}
		if !ended {
			t.Fatal("a session used every 20 minutes lived past 13 hours")
		}
	})
}

func TestSecureCookieBehindTrustedProxy(t *testing.T) {
	apptest.EachWithEnv(t, map[string]string{"VERIGATE_TRUSTED_PROXIES": "10.0.0.0/8"}, func(t *testing.T, e *apptest.Env) {
		email, password := seedUser(t, e, "acme", "viewer")
		for _, c := range []struct {
			remote string
			https  bool
		}{{"10.1.1.1:5000", true}, {"192.0.2.5:5000", false}} {
			b := newBrowser(t, e)
			b.remote = c.remote
			b.header.Set("X-Forwarded-Proto", "https")
			b.get("/dashboard/sign-in")
			p := b.post("/dashboard/sign-in", url.Values{"email": {email}, "password": {password}})
			var got *http.Cookie
			for _, ck := range (&http.Response{Header: p.Header}).Cookies() {
				if strings.Contains(ck.Name, "vg_dash") && ck.Value != "" && !strings.Contains(ck.Name, "signin") {
					got = ck
				}
			}
			if got == nil {
				t.Fatalf("%s: no session cookie: %d %s", c.remote, p.Status, p.Text())
			}
			if c.https != (got.Secure && got.Name == "__Host-vg_dash") || !got.HttpOnly || got.SameSite != http.SameSiteLaxMode || got.Path != "/" {
				t.Errorf("%s: cookie %+v", c.remote, got)
			}
			if c.https {
				if p := b.get("/dashboard/"); p.Status != 200 {
					t.Errorf("__Host- cookie not read back: %d", p.Status)
				}
			}
		}
	})
}
