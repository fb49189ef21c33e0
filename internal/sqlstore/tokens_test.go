package sqlstore_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/sqlstore"
	"github.com/verigate/verigate/internal/sqlstore/storetest"
)

// TestStoreTokensAndRoles is the contract for user and application tokens,
// custom roles and user updates.
func TestStoreTokensAndRoles(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		for _, o := range []*verigate.Organization{org("p1", "platform", verigate.OrgPlatform, ""), org("r1", "acme", verigate.OrgReseller, "p1"),
			org("i1", "acme-cu", verigate.OrgInstitution, "r1")} {
			db.CreateOrganization(ctx, o, ev("organization.create", o.ID))
		}
		if reach, _ := db.OrgReach(ctx, "p1"); len(reach) != 3 {
			t.Fatalf("reach of the platform: %v", reach)
		}
		if reach, _ := db.OrgReach(ctx, "i1"); len(reach) != 1 {
			t.Fatalf("reach of an institution: %v", reach)
		}
		if chain, err := db.OrgChain(ctx, "i1"); err != nil || !slices.Equal(chain, []string{"i1", "r1", "p1"}) {
			t.Fatalf("chain of an institution: %v, %v", chain, err)
		}
		if chain, _ := db.OrgChain(ctx, "p1"); !slices.Equal(chain, []string{"p1"}) {
			t.Fatalf("chain of the platform: %v", chain)
		}
		if _, err := db.OrgChain(ctx, "nope"); verigate.ErrorCode(err) != verigate.ENOTFOUND {
			t.Fatalf("chain of a missing organization: %v", err)
		}
		u := &verigate.User{ID: "u1", OrgID: "r1", Email: "a@acme.test", Username: "a", PasswordHash: "x", Roles: []string{"viewer"},
			Status: verigate.StatusActive, CreatedAt: t0, UpdatedAt: t0}
		db.CreateUser(ctx, u, ev("user.create", "u1"))
		exp := t0.Add(30 * time.Minute)
		user := &verigate.Token{ID: "t1", Hash: []byte("h1"), Type: verigate.TokenUser, UserID: "u1", OrgID: "r1", Application: "admin-pwa",
			Mode: verigate.ModeLive, CreatedAt: t0, LastUsedAt: t0, ExpiresAt: &exp}
		app := &verigate.Token{ID: "t2", Hash: []byte("h2"), Type: verigate.TokenApplication, UserID: "u1", OrgID: "r1", Application: "ci",
			Mode: verigate.ModeLive, Permissions: []verigate.Permission{"users.read"}, Accounts: []string{"i1"}, ParentID: "t1", CreatedAt: t0, LastUsedAt: t0}
		for _, tk := range []*verigate.Token{user, app} {
			if err := db.CreateToken(ctx, tk, ev("token.issue", tk.ID)); err != nil {
				t.Fatal(err)
			}
		}
		got, err := db.GetTokenByHash(ctx, []byte("h2"))
		if err != nil || got.ParentID != "t1" || got.Permissions[0] != "users.read" || got.Accounts[0] != "i1" || got.ExpiresAt != nil {
			t.Fatalf("app token: %+v %v", got, err)
		}
		if got, _ := db.GetToken(ctx, "t1"); got.Permissions != nil || got.Accounts != nil {
			t.Fatalf("a user token's limits are not nil: %+v", got)
		}
		db.SlideToken(ctx, "t1", t0.Add(10*time.Minute), t0.Add(40*time.Minute))
		if got, _ := db.GetToken(ctx, "t1"); !got.ExpiresAt.Equal(t0.Add(40 * time.Minute)) {
			t.Fatalf("slide: %v", got.ExpiresAt)
		}
		list, total, err := db.ListTokens(ctx, verigate.TokenFilter{OrgIDs: []string{"r1"}, Application: "ci", Limit: 10})
		if err != nil || total != 1 || list[0].ID != "t2" {
			t.Fatalf("list: %v %d %v", list, total, err)
		}
		if err := db.RevokeToken(ctx, "t2", ev("application_token.revoke", "t2")); err != nil {
			t.Fatal(err)
		}
		code(t, db.RevokeToken(ctx, "t2", ev("application_token.revoke", "t2")), verigate.ECONFLICT)

		r := &verigate.Role{ID: "00000000-0000-7000-8000-000000000001", OrgID: "r1", Name: "auditor", Permissions: []verigate.Permission{"audit.read"}, CreatedAt: t0, UpdatedAt: t0}
		if err := db.CreateRole(ctx, r, ev("role.create", r.ID)); err != nil {
			t.Fatal(err)
		}
		dup := *r
		dup.ID = "00000000-0000-7000-8000-000000000002"
		code(t, db.CreateRole(ctx, &dup, ev("role.create", dup.ID)), verigate.ECONFLICT)
		u.Roles = []string{r.ID}
		if err := db.UpdateUser(ctx, u, ev("user.set_roles", "u1")); err != nil {
			t.Fatal(err)
		}
		code(t, db.DeleteRole(ctx, r.ID, ev("role.delete", r.ID)), verigate.ECONFLICT)
		if roles, _ := db.ListRoles(ctx, []string{"r1"}); len(roles) != 1 || roles[0].Permissions[0] != "audit.read" {
			t.Fatalf("roles: %+v", roles)
		}
		now := t0.Add(time.Hour)
		u.DeletedAt, u.Email = &now, "u1@deleted.invalid"
		if err := db.UpdateUser(ctx, u, ev("user.delete", "u1")); err != nil {
			t.Fatal(err)
		}
		if users, _ := db.ListUsers(ctx, "r1"); len(users) != 0 {
			t.Fatal("a deleted user is listed")
		}
		if err := db.DeleteRole(ctx, r.ID, ev("role.delete", r.ID)); err != nil {
			t.Fatalf("deleting a role only a deleted user held: %v", err)
		}
	})
}
