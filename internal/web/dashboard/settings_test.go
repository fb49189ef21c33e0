package dashboard_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/verigate/verigate/internal/app/apptest"
)

func TestSettingsRedirectAllowList(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		k := e.SeedKeys("acme")
		b := as(t, e, "acme", "admin")
		p := b.get("/dashboard/settings")
		if p.Status != 200 || !strings.Contains(p.Text(), "Reseller acme") || !strings.Contains(p.Text(), "reseller") || !strings.Contains(p.Text(), "Save settings") {
			t.Fatalf("settings: %d %s", p.Status, p.Text())
		}
		// Refused input keeps the form and saves nothing, not even the
		// settings that were fine.
		p = b.post("/dashboard/settings", url.Values{"review_policy": {"always"}, "logo_url": {"http://logo.example/a.png"},
			"redirect_origins": {"https://shop.example"}})
		if p.Status != 422 || !strings.Contains(p.Body, `value="http://logo.example/a.png"`) || !strings.Contains(p.Body, "https://shop.example</textarea>") {
			t.Fatalf("bad logo: %d %s", p.Status, p.Text())
		}
		for _, bad := range []url.Values{{"review_policy": {"sometimes"}}, {"review_policy": {"always"}, "redirect_origins": {"https://shop.example/path"}},
			{"review_policy": {"always"}, "frame_ancestors": {"http://frame.example"}}} {
			if p := b.post("/dashboard/settings", bad); p.Status != 422 {
				t.Errorf("%v: %d", bad, p.Status)
			}
		}
		if set, _ := e.App.Verify.Settings(e.System, "acme"); set.ReviewPolicy == "always" || len(set.RedirectOrigins) != 0 {
			t.Fatalf("a refused form saved: %+v", set)
		}
		p = b.post("/dashboard/settings", url.Values{"review_policy": {"always"}, "logo_url": {"https://logo.example/a.png"},
			"frame_ancestors": {"https://frame.example"}, "redirect_origins": {"https://shop.example\r\n\r\nhttps://app.shop.example\n"}})
		if p.Status != 303 || !strings.Contains(b.follow(p).Body, "https://shop.example\nhttps://app.shop.example</textarea>") {
			t.Fatalf("save: %d %s", p.Status, p.Text())
		}
		set, err := e.App.Verify.Settings(e.System, "acme")
		if err != nil || set.ReviewPolicy != "always" || set.Journey.LogoURL != "https://logo.example/a.png" ||
			len(set.Journey.FrameAncestors) != 1 || len(set.RedirectOrigins) != 2 {
			t.Fatalf("saved: %+v %v", set, err)
		}
		// The allow-list governs /partner/session and /v1/verifications.
		expiry := e.Clock.Now().Add(48 * time.Hour).Format(time.RFC3339)
		for _, c := range []struct {
			redirect string
			want     int
		}{{"https://evil.example/done", 400}, {"https://shop.example.evil.example/", 400}, {"https://shop.example/done?x=1", 201},
			{"https://app.shop.example/", 201}} {
			r := e.Do("POST", "/partner/session", map[string]any{"params": map[string]any{"expiryDate": expiry, "redirectUrl": c.redirect}},
				"x-api-key", k.APIKey)
			if r.Status != c.want || (c.want == 400 && !strings.Contains(string(r.Body), "redirectUrl")) {
				t.Errorf("/partner/session %s: %d %s", c.redirect, r.Status, r.Body)
			}
			r = e.Do("POST", "/v1/verifications", map[string]any{"data": map[string]any{"firstName": "Jo"}, "meta": map[string]any{"redirectUrl": c.redirect}},
				"Authorization", "Api-Key "+k.APIKey)
			if r.Status != c.want || (c.want == 400 && !strings.Contains(string(r.Body), "redirectUrl")) {
				t.Errorf("/v1/verifications %s: %d %s", c.redirect, r.Status, r.Body)
			}
		}
		// Emptied, any URL goes again.
		b.post("/dashboard/settings", url.Values{"review_policy": {"never"}, "redirect_origins": {""}})
		if r := e.Do("POST", "/partner/session", map[string]any{"params": map[string]any{"expiryDate": expiry, "redirectUrl": "https://evil.example/"}},
			"x-api-key", k.APIKey); r.Status != 201 {
			t.Errorf("emptied list: %d %s", r.Status, r.Body)
		}
	})
}

func TestSettingsPermissions(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		r := as(t, e, "acme", "reviewer")
		if home := r.get("/dashboard/"); strings.Contains(home.Body, `href="/dashboard/settings"`) || strings.Contains(home.Body, `href="/dashboard/audit"`) {
			t.Error("reviewer sees settings or audit")
		}
		for _, path := range []string{"/dashboard/settings", "/dashboard/audit"} {
			if p := r.get(path); p.Status != 403 {
				t.Errorf("reviewer %s: %d", path, p.Status)
			}
		}
		if p := r.post("/dashboard/settings", url.Values{"review_policy": {"always"}}); p.Status != 403 {
			t.Errorf("reviewer save: %d", p.Status)
		}
		// A viewer reads the settings; the form has no save button and
		// its post is refused.
		v := as(t, e, "acme", "viewer")
		p := v.get("/dashboard/settings")
		if p.Status != 200 || strings.Contains(p.Text(), "Save settings") || !strings.Contains(p.Body, `href="/dashboard/settings"`) {
			t.Fatalf("viewer: %d %s", p.Status, p.Text())
		}
		if p := v.post("/dashboard/settings", url.Values{"review_policy": {"always"}}); p.Status != 403 {
			t.Errorf("viewer save: %d", p.Status)
		}
		if set, _ := e.App.Verify.Settings(e.System, "acme"); set.ReviewPolicy == "always" {
			t.Error("a refused save changed the policy")
		}
	})
}
