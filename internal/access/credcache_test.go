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

// cachedService is newService with the credential cache on.
func cachedService(t *testing.T, db *sqlstore.DB) (*access.Service, *clock, context.Context) {
	s, clk, ctx := newService(t, db)
	s.CacheCredentials(30 * time.Second)
	return s, clk, ctx
}

func newKey(t *testing.T, s *access.Service, ctx context.Context, email string, scopes ...string) (string, *verigate.APIKey) {
	t.Helper()
	secret, k, err := s.CreateAPIKey(ctx, access.APIKeyInput{OrgKey: "acme", UserEmail: email, Scopes: scopes})
	if err != nil {
		t.Fatal(err)
	}
	return secret, k
}

func mustVerifyKey(t *testing.T, s *access.Service, key string) *verigate.Principal {
	t.Helper()
	_, p, err := s.VerifyAPIKey(context.Background(), key)
	if err != nil {
		t.Fatalf("verify key: %v", err)
	}
	return p
}

func wantRefusedKey(t *testing.T, s *access.Service, key, after string) {
	t.Helper()
	if _, _, err := s.VerifyAPIKey(context.Background(), key); err != access.ErrInvalidAPIKey {
		t.Fatalf("after %s, the key verifies: %v", after, err)
	}
}

// TestCacheHonoursChangesAtOnce: a credential verified (and so cached)
// just before a change is judged by the change on the very next request
// of the process that made it.
func TestCacheHonoursChangesAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		s, _, ctx := cachedService(t, db)
		svc := seed(t, s, ctx)
		staff := func(email string, roles ...string) *verigate.User {
			u, err := s.CreateUser(ctx, access.UserInput{OrgKey: "acme", Email: email, Username: email[:4], Password: "long enough password", Roles: roles})
			if err != nil {
				t.Fatal(err)
			}
			return u
		}

		key, k := newKey(t, s, ctx, svc.Email, "status:read")
		mustVerifyKey(t, s, key)
		mustVerifyKey(t, s, key) // from the cache
		if err := s.RevokeAPIKey(ctx, k.ID); err != nil {
			t.Fatal(err)
		}
		wantRefusedKey(t, s, key, "revocation")

		u := staff("dis1@acme.test", verigate.RoleOwner)
		key, _ = newKey(t, s, ctx, u.Email, "status:read")
		mustVerifyKey(t, s, key)
		if _, err := s.DisableUser(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		wantRefusedKey(t, s, key, "the user's disable")

		u = staff("role@acme.test", verigate.RoleOwner)
		key, _ = newKey(t, s, ctx, u.Email, "status:read", "users:read")
		if p := mustVerifyKey(t, s, key); !p.Can("users.read", p.OrgID) {
			t.Fatalf("owner key lacks users.read: %v", p.Permissions)
		}
		if _, err := s.SetRoles(ctx, u.ID, []string{verigate.RoleReviewer}); err != nil {
			t.Fatal(err)
		}
		if p := mustVerifyKey(t, s, key); p.Can("users.read", p.OrgID) {
			t.Fatalf("after the role change the key still holds users.read: %v", p.Permissions)
		}

		// A custom role narrowed.
		role, err := s.CreateRole(ctx, access.RoleInput{OrgID: svc.OrgID, Name: "readers", Permissions: []verigate.Permission{"status.read", "users.read"}})
		if err != nil {
			t.Fatal(err)
		}
		u = staff("cust@acme.test", role.ID)
		key, _ = newKey(t, s, ctx, u.Email, "status:read", "users:read")
		if p := mustVerifyKey(t, s, key); !p.Can("users.read", p.OrgID) {
			t.Fatalf("custom role key lacks users.read: %v", p.Permissions)
		}
		if _, err := s.UpdateRole(ctx, role.ID, access.RoleInput{OrgID: svc.OrgID, Name: "readers", Permissions: []verigate.Permission{"status.read"}}); err != nil {
			t.Fatal(err)
		}
		if p := mustVerifyKey(t, s, key); p.Can("users.read", p.OrgID) {
			t.Fatalf("after the custom role's change the key still holds users.read: %v", p.Permissions)
		}
		// A new institution widens the reseller's reach.
		key, _ = newKey(t, s, ctx, svc.Email, "status:read")
		before := mustVerifyKey(t, s, key).Orgs
		o, err := s.CreateOrganization(ctx, access.OrgInput{Kind: verigate.OrgInstitution, Key: "acme-two", Name: "Two", ParentKey: "acme", Core: "Symitar"})
		if err != nil {
			t.Fatal(err)
		}
		if after := mustVerifyKey(t, s, key).Orgs; !slices.Contains(after, o.ID) || len(after) != len(before)+1 {
			t.Fatalf("reach after a new institution = %v (before %v)", after, before)
		}

		// An SSO token revoked.
		g, err := s.RequestSSOToken(ctx, tokenOf(t, s, ctx), svc.Email, "correct horse battery")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.VerifySSOToken(ctx, g.Secret); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeSSOToken(ctx, g.Token); err != nil {
			t.Fatal(err)
		}
		if _, err := s.VerifySSOToken(ctx, g.Secret); err != access.ErrInvalidSSOToken {
			t.Fatalf("revoked SSO token: %v", err)
		}

		// An application token whose creator is revoked.
		person := staff("pers@acme.test", verigate.RoleOwner)
		secret, _, _, err := s.SignInToken(ctx, person.Email, "long enough password", "", "")
		if err != nil {
			t.Fatal(err)
		}
		_, _, up, err := verifyToken(s, secret)
		if err != nil {
			t.Fatal(err)
		}
		mid, midTok, _, err := s.MintApplicationToken(verigate.WithPrincipal(ctx, up), access.AppTokenInput{Application: "app",
			Permissions: []verigate.Permission{"application-tokens.create", "status.read"}})
		if err != nil {
			t.Fatal(err)
		}
		_, _, mp, err := verifyToken(s, mid)
		if err != nil {
			t.Fatal(err)
		}
		leaf, _, _, err := s.MintApplicationToken(verigate.WithPrincipal(ctx, mp), access.AppTokenInput{Application: "app",
			Permissions: []verigate.Permission{"status.read"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := verifyToken(s, leaf); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeApplicationToken(ctx, "app", midTok.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := verifyToken(s, leaf); err != access.ErrInvalidToken {
			t.Fatalf("a token whose creator is revoked: %v", err)
		}

		// The organization disabled, last: it ends every credential of it.
		key, _ = newKey(t, s, ctx, svc.Email, "status:read")
		mustVerifyKey(t, s, key)
		if _, _, _, err := verifyToken(s, secret); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DisableOrganization(ctx, "acme"); err != nil {
			t.Fatal(err)
		}
		wantRefusedKey(t, s, key, "the organization's disable")
		if _, _, _, err := verifyToken(s, secret); err != access.ErrInvalidToken {
			t.Fatalf("user token after the organization's disable: %v", err)
		}
	})
}

func verifyToken(s *access.Service, secret string) (string, *verigate.Token, *verigate.Principal, error) {
	t, p, err := s.VerifyToken(context.Background(), secret)
	return secret, t, p, err
}

func tokenOf(t *testing.T, s *access.Service, ctx context.Context) string {
	t.Helper()
	tok, _, err := s.IssueAccessToken(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestCacheAcrossReplicas: two servers on one database. A change made by
// one (or by the admin command, another process) reaches the other's
// cache through the store's generation: at its next poll, and in any
// case for every request verified more than access.Fresh after it.
func TestCacheAcrossReplicas(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		s1, _, ctx := cachedService(t, db)
		s2, _, _ := cachedService(t, db)
		svc := seed(t, s1, ctx)

		key, k := newKey(t, s1, ctx, svc.Email, "status:read")
		mustVerifyKey(t, s2, key)
		if err := s1.RevokeAPIKey(ctx, k.ID); err != nil {
			t.Fatal(err)
		}
		if err := s2.RefreshCredentialCache(ctx); err != nil {
			t.Fatal(err)
		}
		wantRefusedKey(t, s2, key, "a revocation on the other replica and a poll")

		// Without a forced poll: refused within the bound, in real time.
		key, _ = newKey(t, s1, ctx, svc.Email, "status:read")
		mustVerifyKey(t, s2, key)
		if _, err := s1.DisableOrganization(ctx, "acme"); err != nil {
			t.Fatal(err)
		}
		changed := time.Now()
		for {
			start := time.Now()
			_, _, err := s2.VerifyAPIKey(context.Background(), key)
			if err == access.ErrInvalidAPIKey {
				t.Logf("honoured after %v", time.Since(changed))
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if start.Sub(changed) >= access.Fresh {
				t.Fatalf("a key verified %v after its organization's disable still works", start.Sub(changed))
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// TestCacheKeepsExpiries: a cached credential never outlives its own
// ends, on the service clock; slides and touches keep working.
func TestCacheKeepsExpiries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		s, clk, ctx := cachedService(t, db)
		s.CacheCredentials(time.Hour) // longer than every end below
		svc := seed(t, s, ctx)

		exp := clk.Now().Add(90 * time.Second)
		key, k, err := s.CreateAPIKey(ctx, access.APIKeyInput{OrgKey: "acme", UserEmail: svc.Email, Scopes: []string{"status:read"}, ExpiresAt: &exp})
		if err != nil {
			t.Fatal(err)
		}
		mustVerifyKey(t, s, key)
		clk.Advance(time.Minute + time.Second)
		got, _, err := s.VerifyAPIKey(ctx, key) // cached, and touched: a minute passed
		if err != nil || got.LastUsedAt == nil || !got.LastUsedAt.Equal(clk.Now().UTC()) {
			t.Fatalf("touched key = %+v, %v", got, err)
		}
		if keys, err := s.ListAPIKeys(ctx, "acme"); err != nil || !keyUsedAt(keys, k.ID, clk.Now()) {
			t.Fatalf("last use not recorded: %v", err)
		}
		clk.Advance(29 * time.Second)
		wantRefusedKey(t, s, key, "its expiry")

		g, err := s.RequestSSOToken(ctx, tokenOf(t, s, ctx), svc.Email, "correct horse battery")
		if err != nil {
			t.Fatal(err)
		}
		sess, err := s.VerifySSOToken(ctx, g.Secret)
		if err != nil {
			t.Fatal(err)
		}
		clk.Advance(2 * time.Minute)
		if sess, err = s.VerifySSOToken(ctx, g.Secret); err != nil {
			t.Fatal(err)
		}
		if err := s.SlideSSOToken(ctx, sess.Token); err != nil {
			t.Fatal(err)
		}
		// The slide is in the cache too: the next use within the minute
		// writes nothing, and the window runs from the slide.
		if sess, err = s.VerifySSOToken(ctx, g.Secret); err != nil || !sess.Token.LastUsedAt.Equal(clk.Now().UTC()) {
			t.Fatalf("after a slide: %+v %v", sess, err)
		}
		clk.Advance(access.SSOIdle)
		if _, err := s.VerifySSOToken(ctx, g.Secret); err != nil {
			t.Fatalf("within the slid window: %v", err)
		}
		clk.Advance(access.UseAllowance)
		if _, err := s.VerifySSOToken(ctx, g.Secret); err != access.ErrInvalidSSOToken {
			t.Fatalf("past the slid window: %v", err)
		}

		// A user token: the same, through its idle window.
		if _, err := s.CreateUser(ctx, access.UserInput{OrgKey: "acme", Email: "pers@acme.test", Username: "pers",
			Password: "long enough password", Roles: []string{verigate.RoleOwner}}); err != nil {
			t.Fatal(err)
		}
		secret, _, _, err := s.SignInToken(ctx, "pers@acme.test", "long enough password", "", "")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := verifyToken(s, secret); err != nil {
			t.Fatal(err)
		}
		clk.Advance(access.TokenIdle + access.UseAllowance)
		if _, _, _, err := verifyToken(s, secret); err != access.ErrInvalidToken {
			t.Fatalf("idle user token: %v", err)
		}
	})
}

func keyUsedAt(keys []*verigate.APIKey, id string, at time.Time) bool {
	for _, k := range keys {
		if k.ID == id {
			return k.LastUsedAt != nil && k.LastUsedAt.Equal(at)
		}
	}
	return false
}
