package access_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/sqlstore"
	"github.com/verigate/verigate/internal/sqlstore/storetest"
)

func TestCreateMyAPIKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		s, _, sys := newService(t, db)
		seed(t, s, sys)
		dev, err := s.CreateUser(sys, access.UserInput{OrgKey: "acme", Email: "dev@acme.test", Username: "dev",
			Password: "correct horse battery", Roles: []string{verigate.RoleDeveloper}})
		if err != nil {
			t.Fatal(err)
		}
		acme, _ := s.Organization(sys, "acme")
		cu, _ := s.Organization(sys, "acme-cu")
		p := &verigate.Principal{Kind: verigate.PrincipalUser, ID: "session", UserID: dev.ID, OrgID: acme.ID,
			Permissions: verigate.RolePermissions(verigate.RoleDeveloper), Orgs: []string{acme.ID, cu.ID}, Mode: verigate.ModeLive}
		ctx := verigate.WithPrincipal(context.Background(), p)
		// UserEmail is the caller's, whatever the input says.
		_, k, err := s.CreateMyAPIKey(ctx, access.APIKeyInput{OrgKey: "acme", UserEmail: "svc@acme.test", Name: "mine", Scopes: []string{"webhooks:write"}})
		if err != nil || k.UserID != dev.ID || k.OrgID != acme.ID {
			t.Fatalf("create: %+v %v", k, err)
		}
		// The rules of CreateAPIKey: no scope the person lacks, and the
		// person a member of the key's organization.
		_, _, err = s.CreateMyAPIKey(ctx, access.APIKeyInput{OrgKey: "acme", Scopes: []string{"calls:read"}})
		wantCode(t, err, verigate.EFORBIDDEN)
		// Always in the person's own organization.
		if _, k, err := s.CreateMyAPIKey(ctx, access.APIKeyInput{OrgKey: "acme-cu", Scopes: []string{"webhooks:read"}}); err != nil || k.OrgID != acme.ID {
			t.Fatalf("create naming a child organization: %+v %v", k, err)
		}
		// A rate policy no more generous than the default.
		_, _, err = s.CreateMyAPIKey(ctx, access.APIKeyInput{Scopes: []string{"webhooks:read"},
			RateLimit: &verigate.RateLimitPolicy{TTL: time.Second, Limit: 1000, BlockDuration: time.Second}})
		wantCode(t, err, verigate.EINVALID)
		if _, k, err := s.CreateMyAPIKey(ctx, access.APIKeyInput{Scopes: []string{"webhooks:read"},
			RateLimit: &verigate.RateLimitPolicy{TTL: time.Hour, Limit: 6000, BlockDuration: time.Hour}}); err != nil || k.RateLimit.Limit != 6000 {
			t.Fatalf("a policy at the default rate: %+v %v", k, err)
		}
		// No person: refused.
		_, _, err = s.CreateMyAPIKey(sys, access.APIKeyInput{OrgKey: "acme", Scopes: []string{"webhooks:read"}})
		wantCode(t, err, verigate.EFORBIDDEN)

		got := access.GrantableScopes(p)
		for _, want := range []string{"status:read", "webhooks:read", "webhooks:write", "verifications:read", "api-keys:create"} {
			if !slices.Contains(got, want) {
				t.Errorf("developer may grant %s: %v", want, got)
			}
		}
		for _, lacks := range []string{"accounts:read", "otp:write", "calls:read", "verifications:create"} {
			if slices.Contains(got, lacks) {
				t.Errorf("developer offered %s", lacks)
			}
		}
		// Each is a scope a key acting as p can carry.
		for _, sc := range got {
			if _, _, err := s.CreateMyAPIKey(ctx, access.APIKeyInput{OrgKey: "acme", Scopes: []string{sc}}); err != nil {
				t.Errorf("scope %s: %v", sc, err)
			}
		}
		// A part of an alias: its own spelling.
		part := &verigate.Principal{Permissions: []verigate.Permission{"webhooks.create"}}
		if got := access.GrantableScopes(part); !slices.Equal(got, []string{"webhooks:create"}) {
			t.Errorf("part of webhooks:write: %v", got)
		}
	})
}
