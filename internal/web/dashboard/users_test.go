package dashboard_test

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/app/apptest"
)

var (
	userLink = regexp.MustCompile(`/dashboard/users/([0-9a-f-]{36})`)
	roleLink = regexp.MustCompile(`/dashboard/roles/([0-9a-f-]{36})`)
)

func TestUsers(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		b := as(t, e, "acme", "admin")
		p := b.get("/dashboard/users")
		if p.Status != 200 || !strings.Contains(p.Text(), "admin@acme.test") || !strings.Contains(p.Text(), "Add a user") {
			t.Fatalf("list: %d %s", p.Status, p.Text())
		}
		// The form offers only the roles an admin may grant.
		p = b.get("/dashboard/users/new")
		if !strings.Contains(p.Body, `value="admin"`) || strings.Contains(p.Body, `value="owner"`) {
			t.Errorf("new user roles: %s", p.Text())
		}
		// Bad input keeps the form.
		p = b.post("/dashboard/users", url.Values{"email": {"not an email"}, "username": {"pat"}, "password": {"long enough password 1"}, "roles": {"viewer"}})
		if p.Status != 422 || !strings.Contains(p.Body, `value="pat"`) || !strings.Contains(p.Body, `value="viewer" checked`) {
			t.Fatalf("bad email: %d %s", p.Status, p.Text())
		}
		// Granting owner is refused and creates nobody.
		p = b.post("/dashboard/users", url.Values{"email": {"boss@acme.test"}, "username": {"boss"}, "password": {"long enough password 1"}, "roles": {"owner"}})
		if p.Status != 403 {
			t.Fatalf("grant owner: %d %s", p.Status, p.Text())
		}
		if users, _ := e.App.Access.ListUsers(e.System, "acme"); slices.ContainsFunc(users, func(u *verigate.User) bool { return u.Email == "boss@acme.test" }) {
			t.Fatal("a refused user was created")
		}
		p = b.post("/dashboard/users", url.Values{"email": {"pat@acme.test"}, "username": {"pat"}, "password": {"long enough password 1"}, "roles": {"viewer"}})
		if p.Status != 303 {
			t.Fatalf("create: %d %s", p.Status, p.Text())
		}
		id := userLink.FindStringSubmatch(p.Location())[1]
		p = b.follow(p)
		if !strings.Contains(p.Text(), "pat@acme.test") || !strings.Contains(p.Text(), "User created") {
			t.Fatalf("user page: %s", p.Text())
		}
		// Roles: owner refused, nothing changed; developer granted.
		if p := b.post("/dashboard/users/"+id+"/roles", url.Values{"roles": {"owner"}}); p.Status != 403 {
			t.Errorf("set owner: %d", p.Status)
		}
		if u, _ := e.App.Access.User(e.System, id); !slices.Equal(u.Roles, []string{"viewer"}) {
			t.Errorf("roles after refusal: %v", u.Roles)
		}
		if p := b.post("/dashboard/users/"+id+"/roles", url.Values{"roles": {"developer", "reviewer"}}); p.Status != 303 {
			t.Errorf("set roles: %d %s", p.Status, p.Text())
		}
		if u, _ := e.App.Access.User(e.System, id); !slices.Equal(u.Roles, []string{"developer", "reviewer"}) {
			t.Errorf("roles: %v", u.Roles)
		}
		if p := b.post("/dashboard/users/"+id+"/roles", nil); p.Status != 400 {
			t.Errorf("no roles: %d", p.Status)
		}
		if p := b.post("/dashboard/users/"+id+"/disable", nil); p.Status != 303 {
			t.Errorf("disable: %d", p.Status)
		}
		if u, _ := e.App.Access.User(e.System, id); u.Status != verigate.StatusDisabled {
			t.Errorf("status: %s", u.Status)
		}
		// Ids that are not, and another tenant's user: not found.
		rival := as(t, e, "rival", "admin")
		for _, c := range []struct {
			b    *browser
			path string
		}{{b, "/dashboard/users/nope"}, {b, "/dashboard/users/00000000-0000-4000-8000-000000000000"}, {rival, "/dashboard/users/" + id}} {
			if p := c.b.get(c.path); p.Status != 404 {
				t.Errorf("%s: %d", c.path, p.Status)
			}
		}
		rival.get("/dashboard/users")
		if p := rival.post("/dashboard/users/"+id+"/roles", url.Values{"roles": {"viewer"}}); p.Status != 404 {
			t.Errorf("rival set roles: %d", p.Status)
		}
		if p := rival.get("/dashboard/users"); strings.Contains(p.Text(), "pat@acme.test") {
			t.Error("rival lists acme's users")
		}
		// A reviewer: no link, 403.
		r := as(t, e, "acme", "reviewer")
		if home := r.get("/dashboard/"); strings.Contains(home.Body, `href="/dashboard/users"`) || strings.Contains(home.Body, `href="/dashboard/roles"`) {
			t.Error("reviewer sees users or roles")
		}
		for _, path := range []string{"/dashboard/users", "/dashboard/users/new", "/dashboard/users/" + id, "/dashboard/roles"} {
			if p := r.get(path); p.Status != 403 {
				t.Errorf("reviewer %s: %d", path, p.Status)
			}
		}
		if p := r.post("/dashboard/users/"+id+"/disable", nil); p.Status != 403 {
			t.Errorf("reviewer disable: %d", p.Status)
		}
		// A viewer reads users without the buttons.
		v := as(t, e, "acme", "viewer")
		if p := v.get("/dashboard/users/" + id); p.Status != 200 || strings.Contains(p.Text(), "Save roles") || strings.Contains(p.Text(), "Add a user") {
			t.Errorf("viewer: %d %s", p.Status, p.Text())
		}
	})
}

func TestRoles(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		b := as(t, e, "acme", "admin")
		p := b.get("/dashboard/roles")
		if p.Status != 200 || !strings.Contains(p.Text(), "owner") || !strings.Contains(p.Text(), "Built-in") || !strings.Contains(p.Text(), "New custom role") {
			t.Fatalf("roles: %d %s", p.Status, p.Text())
		}
		// Only the permissions the admin holds are offered.
		if !strings.Contains(p.Body, `value="users.read"`) || strings.Contains(p.Body, `value="organizations.create"`) {
			t.Error("offered permissions")
		}
		if p := b.get("/dashboard/roles/owner"); p.Status != 200 || !strings.Contains(p.Text(), "organizations.create") || strings.Contains(p.Text(), "Edit role") {
			t.Errorf("owner role: %d %s", p.Status, p.Text())
		}
		// Bad input keeps the form; a permission not held is refused.
		p = b.post("/dashboard/roles", url.Values{"name": {"admin"}, "description": {"Front desk"}, "permissions": {"users.read"}})
		if p.Status != 422 || !strings.Contains(p.Body, `value="Front desk"`) || !strings.Contains(p.Body, `value="users.read" checked`) {
			t.Fatalf("built-in name: %d %s", p.Status, p.Text())
		}
		if p := b.post("/dashboard/roles", url.Values{"name": {"Too much"}, "permissions": {"organizations.create"}}); p.Status != 403 {
			t.Errorf("ungrantable: %d", p.Status)
		}
		p = b.post("/dashboard/roles", url.Values{"name": {"Front desk"}, "permissions": {"users.read", "verifications.read"}})
		if p.Status != 303 {
			t.Fatalf("create: %d %s", p.Status, p.Text())
		}
		id := roleLink.FindStringSubmatch(p.Location())[1]
		if p := b.follow(p); !strings.Contains(p.Text(), "Front desk") || !strings.Contains(p.Text(), "verifications.read") {
			t.Fatalf("role page: %s", p.Text())
		}
		// It can be granted, updated (refused input keeps the form) and,
		// once nobody holds it, deleted.
		if p := b.get("/dashboard/users/new"); !strings.Contains(p.Body, `value="`+id+`"`) {
			t.Error("the custom role is not offered to new users")
		}
		p = b.post("/dashboard/roles/"+id, url.Values{"name": {""}, "permissions": {"users.read"}})
		if p.Status != 422 {
			t.Errorf("empty name: %d", p.Status)
		}
		if p := b.post("/dashboard/roles/"+id, url.Values{"name": {"Desk"}, "permissions": {"users.read"}}); p.Status != 303 {
			t.Errorf("update: %d %s", p.Status, p.Text())
		}
		if r, _ := e.App.Access.Role(e.System, id); r.Name != "Desk" || len(r.Permissions) != 1 {
			t.Errorf("updated: %+v", r)
		}
		if p := b.post("/dashboard/roles/admin", url.Values{"name": {"x"}}); p.Status != 403 {
			t.Errorf("update built-in: %d", p.Status)
		}
		rival := as(t, e, "rival", "admin")
		for _, path := range []string{"/dashboard/roles/" + id, "/dashboard/roles/nope"} {
			if p := rival.get(path); p.Status != 404 {
				t.Errorf("rival %s: %d", path, p.Status)
			}
		}
		if p := rival.post("/dashboard/roles/"+id+"/delete", nil); p.Status != 404 {
			t.Errorf("rival delete: %d", p.Status)
		}
		if p := b.post("/dashboard/roles/"+id+"/delete", nil); p.Status != 303 {
			t.Errorf("delete: %d %s", p.Status, p.Text())
		}
		if _, err := e.App.Access.Role(e.System, id); verigate.ErrorCode(err) != verigate.ENOTFOUND {
			t.Errorf("after delete: %v", err)
		}
		// A viewer reads roles without the forms.
		v := as(t, e, "acme", "viewer")
		if p := v.get("/dashboard/roles"); p.Status != 200 || strings.Contains(p.Text(), "New custom role") {
			t.Errorf("viewer roles: %d", p.Status)
		}
		if p := v.post("/dashboard/roles", url.Values{"name": {"x"}}); p.Status != 403 {
			t.Errorf("viewer create: %d", p.Status)
		}
	})
}
