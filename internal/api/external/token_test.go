package external_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/app/apptest"
)

func TestTokenRequest(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		a := e.SeedReseller("acme", "acme-cu", "first-state-bank")
		b := e.SeedReseller("bravo", "bravo-cu")
		resp := e.Do("POST", "/external/token/request", map[string]string{"email": a.Email, "password": a.Password}, "accessToken", a.AccessToken)
		if resp.Status != 200 {
			t.Fatalf("login: %d %s", resp.Status, resp.Body)
		}
		var body struct {
			Success         bool
			Token           string
			ExpiresOn       string
			InstitutionKeys []string
		}
		resp.Decode(t, &body)
		if !body.Success || !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`).MatchString(body.Token) {
			t.Fatalf("token response: %s", resp.Body)
		}
		if body.ExpiresOn != "2026-11-22T09:31:00+00:00" {
			t.Fatalf("expiresOn = %q, want 30 minutes (and the minute's allowance) on, with a numeric offset", body.ExpiresOn)
		}
		if strings.Join(body.InstitutionKeys, ",") != "acme-cu,first-state-bank" {
			t.Fatalf("institutionKeys = %v", body.InstitutionKeys)
		}

		// Every credential failure is the same 401.
		good := map[string]string{"email": a.Email, "password": a.Password}
		for name, tc := range map[string]struct {
			body    map[string]string
			headers []string
		}{
			"no accessToken":      {good, nil},
			"wrong accessToken":   {good, []string{"accessToken", "vgat_nope"}},
			"other reseller's":    {good, []string{"accessToken", b.AccessToken}},
			"wrong password":      {map[string]string{"email": a.Email, "password": "wrong password"}, []string{"accessToken", a.AccessToken}},
			"unknown email":       {map[string]string{"email": "nobody@acme.test", "password": a.Password}, []string{"accessToken", a.AccessToken}},
			"other's credentials": {map[string]string{"email": b.Email, "password": b.Password}, []string{"accessToken", a.AccessToken}},
		} {
			t.Run(name, func(t *testing.T) {
				wantError(t, e.Do("POST", "/external/token/request", tc.body, tc.headers...), 401, "Invalid credentials.")
			})
		}
		if _, err := e.App.Access.DisableOrganization(e.System, "bravo"); err != nil {
			t.Fatal(err)
		}
		wantError(t, e.Do("POST", "/external/token/request", map[string]string{"email": b.Email, "password": b.Password}, "accessToken", b.AccessToken), 401, "Invalid credentials.")

		// Lockout: after ten failures the right password is refused with 429.
		for range 10 {
			e.Do("POST", "/external/token/request", map[string]string{"email": a.Email, "password": "wrong"}, "accessToken", a.AccessToken)
		}
		resp = e.Do("POST", "/external/token/request", good, "accessToken", a.AccessToken)
		wantError(t, resp, 429, "")
		if resp.Header.Get("Retry-After") != "60" {
			t.Fatalf("Retry-After = %q", resp.Header.Get("Retry-After"))
		}
	})
}

func TestSlidingExpiry(t *testing.T) {
	e := apptest.SQLite(t)
	a := e.SeedReseller("acme", "acme-cu")
	queue := func(token string) *apptest.Response {
		return e.Do("GET", "/external/calls/queue", nil, sa(token, "acme-cu", "jdoe")...)
	}
	t.Run("used at minute 29, valid at minute 58", func(t *testing.T) {
		tok := login(t, e, a)
		e.Clock.Advance(29 * time.Minute)
		if r := queue(tok); r.Status != 200 {
			t.Fatalf("minute 29: %d", r.Status)
		}
		e.Clock.Advance(29 * time.Minute)
		if r := queue(tok); r.Status != 200 {
			t.Fatalf("minute 58: %d %s", r.Status, r.Body)
		}
	})
	t.Run("idle 30 minutes, the minute's allowance and a second", func(t *testing.T) {
		tok := login(t, e, a)
		e.Clock.Advance(31*time.Minute + time.Second)
		wantError(t, queue(tok), 401, "Invalid or expired SSO token.")
	})
	t.Run("a failed request does not slide", func(t *testing.T) {
		tok := login(t, e, a)
		e.Clock.Advance(20 * time.Minute)
		// A foreign institution key: the request fails (403).
		wantError(t, e.Do("GET", "/external/calls/queue", nil, sa(tok, "nope-cu", "jdoe")...), 403, "")
		// A request the handler refuses (an unknown call): 404.
		wantError(t, e.Do("GET", "/external/calls/nope/details", nil, sa(tok, "acme-cu", "jdoe")...), 404, "Phone call not found")
		e.Clock.Advance(11*time.Minute + time.Second)
		wantError(t, queue(tok), 401, "")
	})
	t.Run("absolute cap under continuous use", func(t *testing.T) {
		tok := login(t, e, a)
		for elapsed := time.Duration(0); elapsed < 12*time.Hour-10*time.Minute; elapsed += 10 * time.Minute {
			e.Clock.Advance(10 * time.Minute)
			if r := queue(tok); r.Status != 200 {
				t.Fatalf("after %v of continuous use: %d", elapsed+10*time.Minute, r.Status)
			}
		}
		e.Clock.Advance(10 * time.Minute) // 12h after sign-in
		wantError(t, queue(tok), 401, "")
	})
	t.Run("disabling the reseller kills its tokens", func(t *testing.T) {
		tok := login(t, e, a)
		if r := queue(tok); r.Status != 200 {
			t.Fatal(r.Status)
		}
		if _, err := e.App.Access.DisableOrganization(e.System, "acme"); err != nil {
			t.Fatal(err)
		}
		wantError(t, queue(tok), 401, "")
	})
}

func TestRevokeAndUserToken(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		a := e.SeedReseller("acme", "acme-cu")
		tok := login(t, e, a)
		resp := e.Do("POST", "/external/token/request/user", nil, sa(tok, "acme-cu", "jdoe")...)
		if resp.Status != 200 {
			t.Fatalf("user token: %d %s", resp.Status, resp.Body)
		}
		m := resp.JSON(t)
		user := m["token"].(string)
		if !strings.HasPrefix(m["url"].(string), "https://verigate.test/dashboard/sso?token=") {
			t.Fatalf("url = %v", m["url"])
		}
		lt, err := e.App.Access.RedeemLoginToken(e.System, user)
		if err != nil {
			t.Fatalf("first redemption: %v", err)
		}
		inst, _ := e.App.Access.Organization(e.System, "acme-cu")
		if lt.OrgID != inst.ID || lt.RequestedBy != "jdoe" {
			t.Fatalf("login token bound to %s / %s", lt.OrgID, lt.RequestedBy)
		}
		if _, err := e.App.Access.RedeemLoginToken(e.System, user); verigate.ErrorCode(err) != verigate.EUNAUTHENTICATED {
			t.Fatalf("second redemption: %v", err)
		}
		// A login token expires after 30 minutes.
		resp = e.Do("POST", "/external/token/request/user", nil, sa(tok, "acme-cu", "jdoe")...)
		e.Clock.Advance(30 * time.Minute)
		if _, err := e.App.Access.RedeemLoginToken(e.System, resp.JSON(t)["token"].(string)); err == nil {
			t.Fatal("expired login token redeemed")
		}
		tok = login(t, e, a)
		if r := e.Do("POST", "/external/token/revoke", nil, "SsoToken", tok); r.Status != 200 {
			t.Fatalf("revoke: %d %s", r.Status, r.Body)
		}
		wantError(t, e.Do("GET", "/external/institutions", nil, "SsoToken", tok), 401, "")
	})
}
