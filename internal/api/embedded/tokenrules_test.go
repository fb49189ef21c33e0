package embedded_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/app/apptest"
)

// TestMintedExpiryCapped: a minted token never outlives its creator. One
// that asks for no expiry, or a later one, gets its creator's; and it stops
// working when the creator expires.
func TestMintedExpiryCapped(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		e.SeedReseller("acme", "acme-cu")
		user := signIn(t, e, person(t, e, "acme", "olivia", verigate.RoleOwner))["token"].(string)
		signedIn := e.Clock.Now()
		mint := func(with string, expiresAt *time.Time) map[string]any {
			t.Helper()
			body := map[string]any{"permissions": []string{"users.read", "application-tokens.create"}}
			if expiresAt != nil {
				body["expiresAt"] = expiresAt.Format(time.RFC3339Nano)
			}
			r := e.Do("POST", "/application/reports/token", body, "Authorization", with)
			if r.Status != 201 {
				t.Fatalf("mint: %d %s", r.Status, r.Body)
			}
			return r.JSON(t)
		}
		at := func(d time.Duration) *time.Time { x := signedIn.Add(d); return &x }
		stamp := func(d time.Duration) string { return at(d).UTC().Format("2006-01-02T15:04:05.000Z07:00") }

		// From a user token: capped by the sign-in's 12-hour limit.
		fromUser := mint(user, nil)
		if fromUser["expiresAt"] != stamp(12*time.Hour) {
			t.Fatalf("minted from a user token with no expiry: expiresAt %v, want %s", fromUser["expiresAt"], stamp(12*time.Hour))
		}
		if later := mint(user, at(48*time.Hour)); later["expiresAt"] != stamp(12*time.Hour) {
			t.Fatalf("minted from a user token for 48h: expiresAt %v", later["expiresAt"])
		}
		// From an application token expiring in an hour.
		parent := mint(user, at(time.Hour))
		if parent["expiresAt"] != stamp(time.Hour) {
			t.Fatalf("an earlier expiry is kept: %v", parent["expiresAt"])
		}
		parentTok := parent["token"].(string)
		none := mint(parentTok, nil)
		later := mint(parentTok, at(5*time.Hour))
		earlier := mint(parentTok, at(30*time.Minute))
		for name, m := range map[string]map[string]any{"no expiry": none, "a later expiry": later} {
			if m["expiresAt"] != stamp(time.Hour) {
				t.Fatalf("%s from a 1-hour parent: expiresAt %v, want %s", name, m["expiresAt"], stamp(time.Hour))
			}
		}
		if earlier["expiresAt"] != stamp(30*time.Minute) {
			t.Fatalf("an earlier expiry: %v", earlier["expiresAt"])
		}
		grand := mint(none["token"].(string), nil)
		if grand["expiresAt"] != stamp(time.Hour) {
			t.Fatalf("grandchild: expiresAt %v", grand["expiresAt"])
		}
		// A token stored without the cap (minted before it existed) still
		// ends with its parent.
		legacySecret := "vgt_legacy-token-minted-without-a-cap"
		parentRow, err := e.App.DB.GetToken(e.System, parent["id"].(string))
		if err != nil {
			t.Fatal(err)
		}
		legacy := &verigate.Token{ID: "01a22850-0000-7000-8000-00000000beef", Hash: verigate.HashSecret(legacySecret), Type: verigate.TokenApplication,
			UserID: parentRow.UserID, OrgID: parentRow.OrgID, Application: "reports", Mode: parentRow.Mode, Permissions: []verigate.Permission{"users.read"},
			ParentID: parentRow.ID, CreatedAt: signedIn, LastUsedAt: signedIn}
		if err := e.App.DB.CreateToken(e.System, legacy, verigate.NewAuditEvent(e.System, signedIn, "application_token.create", "token", legacy.ID, legacy.OrgID)); err != nil {
			t.Fatal(err)
		}
		// Keep the user token alive; then the parent expires, and all it minted with it.
		users := func(tok string) int { return e.Do("GET", "/users", nil, "Authorization", tok).Status }
		for range 3 {
			e.Clock.Advance(20*time.Minute - time.Millisecond)
			if users(user) != 200 {
				t.Fatal("user token died")
			}
		}
		for _, m := range []map[string]any{parent, none, later, grand} {
			if users(m["token"].(string)) != 200 {
				t.Fatalf("%v dead before its parent", m["id"])
			}
		}
		if users(legacySecret) != 200 {
			t.Fatal("the uncapped token dead before its parent")
		}
		e.Clock.Advance(3 * time.Millisecond) // an hour after sign-in
		for _, m := range []map[string]any{parent, none, later, grand} {
			wantError(t, e.Do("GET", "/users", nil, "Authorization", m["token"].(string)), 401, "unauthorized")
		}
		wantError(t, e.Do("GET", "/users", nil, "Authorization", legacySecret), 401, "unauthorized")
		if users(fromUser["token"].(string)) != 200 {
			t.Fatal("the user's own 12-hour token died with the 1-hour one")
		}
	})
}

// TestTokenManagementRespectsRights: nobody lists or revokes an
// application token that carries more than they hold.
func TestTokenManagementRespectsRights(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		e.SeedReseller("acme", "acme-cu")
		owner := signIn(t, e, person(t, e, "acme", "olivia", verigate.RoleOwner))["token"].(string)
		dev := signIn(t, e, person(t, e, "acme", "dave", verigate.RoleDeveloper))["token"].(string)
		mint := func(with string, perms ...string) map[string]any {
			t.Helper()
			r := e.Do("POST", "/application/reports/token", map[string]any{"permissions": perms}, "Authorization", with)
			if r.Status != 201 {
				t.Fatalf("mint %v: %d %s", perms, r.Status, r.Body)
			}
			return r.JSON(t)
		}
		// The owner's tokens: one with users.update (which a developer lacks),
		// one minted from it, and one a developer could hold.
		strong := mint(owner, "users.read", "users.update", "application-tokens.create", "events.read")
		strongChild := mint(strong["token"].(string), "users.read", "users.update")
		weak := mint(owner, "events.read")
		devOwn := mint(dev, "events.read")

		listed := func(tok string) []string {
			var l struct {
				Data  []map[string]any
				Total int
			}
			e.Do("GET", "/application/reports/token", nil, "Authorization", tok).Decode(t, &l)
			var ids []string
			for _, d := range l.Data {
				ids = append(ids, d["id"].(string))
			}
			if l.Total != len(ids) {
				t.Fatalf("total %d, listed %d", l.Total, len(ids))
			}
			return ids
		}
		got := listed(dev)
		if slices.Contains(got, strong["id"].(string)) || slices.Contains(got, strongChild["id"].(string)) {
			t.Fatalf("a developer lists the owner's stronger tokens: %v", got)
		}
		if !slices.Contains(got, weak["id"].(string)) || !slices.Contains(got, devOwn["id"].(string)) || len(got) != 2 {
			t.Fatalf("a developer lists %v, want the weak and its own", got)
		}
		if n := len(listed(owner)); n != 4 {
			t.Fatalf("the owner lists %d tokens, want 4", n)
		}
		// Paging counts only what the caller may manage.
		r := e.Do("GET", "/application/reports/token?limit=1&skip=1", nil, "Authorization", dev)
		if m := r.JSON(t); m["total"] != float64(2) || len(m["data"].([]any)) != 1 {
			t.Fatalf("page 2 of 1: %s", r.Body)
		}
		revoke := func(with string, m map[string]any) *apptest.Response {
			return e.Do("DELETE", "/application/reports/token/"+m["id"].(string), nil, "Authorization", with)
		}
		for _, m := range []map[string]any{strong, strongChild} {
			wantError(t, revoke(dev, m), 403, "forbidden")
			if e.Do("GET", "/users", nil, "Authorization", strongChild["token"].(string)).Status != 200 {
				t.Fatal("a refused revocation revoked")
			}
		}
		if r := revoke(dev, weak); r.Status != 204 {
			t.Fatalf("revoke a token within the developer's rights: %d %s", r.Status, r.Body)
		}
		if r := revoke(owner, strong); r.Status != 204 {
			t.Fatalf("the owner revokes: %d %s", r.Status, r.Body)
		}
	})
}

// exactPayPermissions is the seed's (003) allowedPermissions list.
var exactPayPermissions = strings.Fields(`users.read users.update users.delete users.disable users.set-permissions
	users.proxy organization-invites.create organization-invites.read organization-invites.delete account-invites.create
	account-invites.read account-invites.delete organizations.create organizations.read organizations.update
	organizations.delete organizations.disable accounts.create accounts.read accounts.update accounts.delete
	accounts.disable applications.create applications.read applications.update applications.delete
	application-tokens.create application-tokens.read application-tokens.delete templates.set templates.unset
	roles.create roles.read roles.update roles.delete onboardings.read onboardings.update onboardings.delete
	onboarding-document-requests.create onboarding-document-requests.read onboarding-documents.create
	onboarding-documents.update onboarding-documents.read onboarding-documents.delete onboarding-notes.create
	onboarding-notes.read onboarding-workflows.create onboarding-workflows.read onboarding-workflows.update
	onboarding-workflows.delete charges.create charges.read plans.create plans.read plans.delete plans.update
	subscriptions.create subscriptions.read subscriptions.delete subscriptions.update customers.create customers.read
	customers.update customers.delete reports.create reports.read reports.update reports.delete events.read
	webhooks.create webhooks.read webhooks.update webhooks.delete`)

// TestExactPayPermissionNames: every permission name of the seed's list is
// accepted when minting; those Verigate has no resource for are kept and
// echoed but grant nothing.
func TestExactPayPermissionNames(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		e.SeedReseller("acme", "acme-cu")
		owner := signIn(t, e, person(t, e, "acme", "olivia", verigate.RoleOwner))["token"].(string)
		r := e.Do("POST", "/application/payments/token", map[string]any{"permissions": exactPayPermissions}, "Authorization", owner)
		if r.Status != 201 {
			t.Fatalf("mint with the seed's list: %d %s", r.Status, r.Body)
		}
		var m struct {
			Token              string
			Permissions        []string
			AllowedPermissions []string
		}
		r.Decode(t, &m)
		if !slices.Equal(m.Permissions, exactPayPermissions) {
			t.Fatalf("permissions echoed %v", m.Permissions)
		}
		for _, p := range []string{"customers.read", "plans.create", "charges.read", "users.proxy"} {
			if slices.Contains(m.AllowedPermissions, p) {
				t.Fatalf("%s grants something: %v", p, m.AllowedPermissions)
			}
		}
		if !slices.Contains(m.AllowedPermissions, "users.read") || e.Do("GET", "/users", nil, "Authorization", m.Token).Status != 200 {
			t.Fatalf("users.read does not work: %v", m.AllowedPermissions)
		}
		// A token carrying only names Verigate has no resource for may do nothing.
		r = e.Do("POST", "/application/payments/token", map[string]any{"permissions": []string{"customers.read", "plans.create"}}, "Authorization", owner)
		if allowed, _ := r.JSON(t)["allowedPermissions"].([]any); r.Status != 201 || len(allowed) != 0 {
			t.Fatalf("inert token: %d %s", r.Status, r.Body)
		}
		wantError(t, e.Do("GET", "/users", nil, "Authorization", r.JSON(t)["token"].(string)), 403, "forbidden")
		// A name in neither list is still refused.
		wantError(t, e.Do("POST", "/application/payments/token", map[string]any{"permissions": []string{"customers.fly"}}, "Authorization", owner), 400, "validation_error")
	})
}
