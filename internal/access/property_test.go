package access_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/sqlstore"
	"github.com/verigate/verigate/internal/sqlstore/storetest"
)

func subset[T comparable](a, b []T) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// TestMintingProperty: minting succeeds exactly when the requested
// permissions and organizations are a subset of the creator's; a
// grandchild never exceeds its child; taking a role from the creator
// shrinks every descendant on its next request.
func TestMintingProperty(t *testing.T) {
	db := storetest.Open(t, sqlstore.SQLite)
	s, _, sys := newService(t, db)
	seed(t, s, sys) // acme, acme-cu
	if _, err := s.CreateOrganization(sys, access.OrgInput{Kind: verigate.OrgReseller, Key: "other", Name: "Other"}); err != nil {
		t.Fatal(err)
	}
	acme, _ := db.GetOrganizationByKey(sys, "acme")
	cu, _ := db.GetOrganizationByKey(sys, "acme-cu")
	other, _ := db.GetOrganizationByKey(sys, "other")
	orgs := []string{acme.ID, cu.ID, other.ID}
	var all []verigate.Permission
	for _, p := range verigate.Permissions {
		all = append(all, p.Name)
	}
	n := 0
	rapid.Check(t, func(rt *rapid.T) {
		n++
		held := rapid.SliceOfDistinct(rapid.SampledFrom(all), func(p verigate.Permission) verigate.Permission { return p }).Draw(rt, "held")
		role, err := s.CreateRole(sys, access.RoleInput{OrgID: acme.ID, Name: fmt.Sprint("role-", n), Permissions: held})
		if err != nil {
			rt.Fatal(err)
		}
		email := fmt.Sprintf("p%d@acme.test", n)
		if _, err := s.CreateUser(sys, access.UserInput{OrgKey: "acme", Email: email, Username: "p", Password: "password!", Roles: []string{role.ID}}); err != nil {
			rt.Fatal(err)
		}
		_, _, creator, err := s.SignInToken(context.Background(), email, "password!", "", "")
		if err != nil {
			rt.Fatal(err)
		}
		want := rapid.SliceOfDistinct(rapid.SampledFrom(all), func(p verigate.Permission) verigate.Permission { return p }).Draw(rt, "want")
		accounts := rapid.SliceOfDistinct(rapid.SampledFrom(orgs), func(o string) string { return o }).Draw(rt, "accounts")
		ctx := verigate.WithPrincipal(context.Background(), creator)
		canMint := slices.Contains(creator.Permissions, "application-tokens.create")
		_, _, child, err := s.MintApplicationToken(ctx, access.AppTokenInput{Application: "prop", Permissions: want, Accounts: accounts})
		ok := canMint && subset(want, creator.Permissions) && subset(accounts, creator.Orgs)
		if (err == nil) != ok {
			rt.Fatalf("mint: err %v, expected success %v (held %v, want %v, accounts %v)", err, ok, creator.Permissions, want, accounts)
		}
		if err != nil {
			return
		}
		if !subset(child.Permissions, creator.Permissions) || !subset(child.Orgs, creator.Orgs) {
			rt.Fatalf("child %v exceeds creator %v", child.Permissions, creator.Permissions)
		}
		// A grandchild never exceeds its child.
		want2 := rapid.SliceOfDistinct(rapid.SampledFrom(all), func(p verigate.Permission) verigate.Permission { return p }).Draw(rt, "want2")
		grandSecret, _, grand, err := s.MintApplicationToken(verigate.WithPrincipal(context.Background(), child), access.AppTokenInput{Application: "prop", Permissions: want2})
		ok = slices.Contains(child.Permissions, "application-tokens.create") && subset(want2, child.Permissions)
		if (err == nil) != ok {
			rt.Fatalf("grandchild mint: err %v, expected success %v", err, ok)
		}
		if err != nil {
			return
		}
		if !subset(grand.Permissions, child.Permissions) || !subset(grand.Orgs, child.Orgs) {
			rt.Fatalf("grandchild %v exceeds child %v", grand.Permissions, child.Permissions)
		}
		// Take permissions from the creator's role: every descendant shrinks.
		keep := rapid.SliceOfDistinct(rapid.SampledFrom(append(held, "users.read")), func(p verigate.Permission) verigate.Permission { return p }).Draw(rt, "keep")
		keep = slices.DeleteFunc(keep, func(p verigate.Permission) bool { return !slices.Contains(held, p) })
		if _, err := s.UpdateRole(sys, role.ID, access.RoleInput{Name: role.Name, Permissions: keep}); err != nil {
			rt.Fatal(err)
		}
		_, again, err := s.VerifyToken(context.Background(), grandSecret)
		if err != nil {
			rt.Fatal(err)
		}
		if !subset(again.Permissions, keep) {
			rt.Fatalf("after the role shrank to %v, the grandchild still has %v", keep, again.Permissions)
		}
	})
}
