package embedded_test

import (
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/app/apptest"
)

// TestSessionWindow: an SSO token and an Embedded user token never expire
// earlier than 30 minutes after their last successful request (uses are
// recorded at most once a minute, so they may live up to a minute longer),
// and never later than the configured maximum age after sign-in.
func TestSessionWindow(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		r := e.SeedReseller("acme", "acme-cu")
		acme, _ := e.App.Access.Organization(e.System, "acme")
		email := person(t, e, "acme", "olivia", verigate.RoleOwner)
		kinds := []struct {
			name   string
			signIn func() string
			use    func(tok string) int
		}{
			{"SSO token", func() string {
				return e.Do("POST", "/external/token/request", map[string]string{"email": r.Email, "password": r.Password},
					"accessToken", r.AccessToken).JSON(t)["token"].(string)
			}, func(tok string) int { return e.Do("GET", "/external/institutions", nil, "SsoToken", tok).Status }},
			{"user token", func() string { return signIn(t, e, email)["token"].(string) },
				func(tok string) int { return e.Do("GET", "/organization/"+acme.ID, nil, "Authorization", tok).Status }},
		}
		for _, k := range kinds {
			t.Run(k.name, func(t *testing.T) {
				expect := func(tok string, status int, when string) {
					t.Helper()
					if got := k.use(tok); got != status {
						t.Fatalf("%s: %d, want %d", when, got, status)
					}
				}
				// A request less than a minute after the last recorded one
				// is not written, yet still counts.
				tok := k.signIn()
				e.Clock.Advance(59 * time.Second)
				expect(tok, 200, "59s after sign-in")
				e.Clock.Advance(30*time.Minute - time.Millisecond)
				expect(tok, 200, "30m-1ms after a request")

				// A recorded request: valid 30 minutes on, gone after 31.
				tok = k.signIn()
				other := k.signIn()
				e.Clock.Advance(5 * time.Minute)
				expect(tok, 200, "5m after sign-in")
				expect(other, 200, "5m after sign-in")
				e.Clock.Advance(30*time.Minute - time.Millisecond)
				expect(tok, 200, "30m-1ms after a request")
				e.Clock.Advance(time.Minute + 2*time.Millisecond)
				expect(other, 401, "31m+1ms after a request")

				// Idle from sign-in.
				tok = k.signIn()
				e.Clock.Advance(31*time.Minute + time.Millisecond)
				expect(tok, 401, "31m+1ms after sign-in")

				// The absolute cap, whatever the use.
				capped := func(maxAge time.Duration) {
					t.Helper()
					tok := k.signIn()
					used := time.Duration(0)
					for used+29*time.Minute < maxAge {
						e.Clock.Advance(29 * time.Minute)
						used += 29 * time.Minute
						expect(tok, 200, "in continuous use")
					}
					e.Clock.Advance(maxAge - used - time.Millisecond)
					expect(tok, 200, "1ms before the cap")
					e.Clock.Advance(time.Millisecond)
					expect(tok, 401, "at the cap")
				}
				capped(12 * time.Hour)
				e.App.Access.SessionMaxAge = time.Hour
				defer func() { e.App.Access.SessionMaxAge = 12 * time.Hour }()
				capped(time.Hour)
			})
		}
	})
}
