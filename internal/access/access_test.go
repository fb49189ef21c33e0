package access_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/sqlstore"
	"github.com/verigate/verigate/internal/sqlstore/storetest"
)

// cheap keeps argon2id fast under the race detector; TestRehash checks
// that real parameters take over.
var cheap = access.Argon2Params{Memory: 64, Time: 1, Threads: 1}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newService(t *testing.T, db *sqlstore.DB) (*access.Service, *clock, context.Context) {
	s := access.New(db)
	s.SetArgon2(cheap)
	c := &clock{t: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)}
	s.Now = c.Now
	return s, c, verigate.WithPrincipal(context.Background(), verigate.System)
}

// seed makes a reseller with one institution and a user.
func seed(t *testing.T, s *access.Service, ctx context.Context) *verigate.User {
	t.Helper()
	if _, err := s.CreateOrganization(ctx, access.OrgInput{Kind: verigate.OrgReseller, Key: "acme", Name: "Acme"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateOrganization(ctx, access.OrgInput{Kind: verigate.OrgInstitution, Key: "acme-cu", Name: "Acme CU", ParentKey: "acme", Core: "Symitar"}); err != nil {
		t.Fatal(err)
	}
	u, err := s.CreateUser(ctx, access.UserInput{OrgKey: "acme", Email: "Svc@Acme.test", Username: "svc",
		Password: "correct horse battery", Roles: []string{verigate.RoleOwner}, ServiceAccount: true})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := verigate.ErrorCode(err); got != code {
		t.Fatalf("code = %q (%v), want %q", got, err, code)
	}
}

func TestOrganizationsAndUsers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		s, _, ctx := newService(t, db)
		u := seed(t, s, ctx)
		if u.Email != "svc@acme.test" {
			t.Fatalf("email not normalized: %q", u.Email)
		}
		before := storetest.Dump(t, db)
		bad := []struct {
			name string
			run  func() error
			code string
		}{
			{"duplicate key", func() error {
				_, err := s.CreateOrganization(ctx, access.OrgInput{Kind: verigate.OrgReseller, Key: "acme", Name: "Again"})
				return err
			}, verigate.ECONFLICT},
			{"missing parent", func() error {
				_, err := s.CreateOrganization(ctx, access.OrgInput{Kind: verigate.OrgInstitution, Key: "x-cu", Name: "X", ParentKey: "nope"})
				return err
			}, verigate.EINVALID},
			{"institution under institution", func() error {
				_, err := s.CreateOrganization(ctx, access.OrgInput{Kind: verigate.OrgInstitution, Key: "x-cu", Name: "X", ParentKey: "acme-cu"})
				return err
			}, verigate.EINVALID},
			{"bad key", func() error {
				_, err := s.CreateOrganization(ctx, access.OrgInput{Kind: verigate.OrgReseller, Key: "Bad_Key", Name: "X"})
				return err
			}, verigate.EINVALID},
			{"control character in name", func() error {
				_, err := s.CreateOrganization(ctx, access.OrgInput{Kind: verigate.OrgReseller, Key: "ok-key", Name: "X\x00"})
				return err
			}, verigate.EINVALID},
			{"bad email", func() error {
				_, err := s.CreateUser(ctx, access.UserInput{OrgKey: "acme", Email: "not-an-email", Username: "x", Password: "long enough", Roles: []string{"viewer"}})
				return err
			}, verigate.EINVALID},
			{"short password", func() error {
				_, err := s.CreateUser(ctx, access.UserInput{OrgKey: "acme", Email: "a@b.test", Username: "x", Password: "short", Roles: []string{"viewer"}})
				return err
			}, verigate.EINVALID},
			{"duplicate email, other case", func() error {
				_, err := s.CreateUser(ctx, access.UserInput{OrgKey: "acme-cu", Email: "SVC@acme.test", Username: "x", Password: "long enough", Roles: []string{"viewer"}})
				return err
			}, verigate.ECONFLICT},
			{"unknown role", func() error {
				_, err := s.CreateUser(ctx, access.UserInput{OrgKey: "acme", Email: "a@b.test", Username: "x", Password: "long enough", Roles: []string{"god"}})
				return err
			}, verigate.EINVALID},
		}
		for _, tc := range bad {
			t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.run(), tc.code) })
		}
		if after := storetest.Dump(t, db); after != before {
			t.Fatal("a rejected change wrote to the database")
		}
		// A 1024-character password is kept whole: its 1023-character prefix does not sign in.
		long := strings.Repeat("p", 1024)
		if _, err := s.CreateUser(ctx, access.UserInput{OrgKey: "acme", Email: "long@acme.test", Username: "l", Password: long, Roles: []string{"viewer"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SignIn(ctx, "long@acme.test", long[:1023]); err == nil {
			t.Fatal("password truncated")
		}
		if _, err := s.SignIn(ctx, "long@acme.test", long); err != nil {
			t.Fatal(err)
		}
	})
}

func TestSignIn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		s, clk, ctx := newService(t, db)
		seed(t, s, ctx)
		if _, err := s.SignIn(ctx, "SVC@acme.test", "correct horse battery"); err != access.ErrBadCredentials {
			t.Fatalf("a service account signed in without an access token: %v", err)
		}
		token, _, err := s.IssueAccessToken(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.SignInServiceAccount(ctx, token, "SVC@acme.test", "correct horse battery"); err != nil {
			t.Fatalf("good service-account sign-in: %v", err)
		}
		if _, err := s.SignInServiceAccount(ctx, token+"x", "svc@acme.test", "correct horse battery"); err != access.ErrBadCredentials {
			t.Fatalf("bad access token: %v", err)
		}
		if _, err := s.CreateUser(ctx, access.UserInput{OrgKey: "acme", Email: "person@acme.test", Username: "p", Password: "person password", Roles: []string{"viewer"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SignIn(ctx, "person@acme.test", "person password"); err != nil {
			t.Fatalf("good sign-in: %v", err)
		}
		if _, err := s.SignInServiceAccount(ctx, token, "person@acme.test", "person password"); err != access.ErrBadCredentials {
			t.Fatalf("a person signed in as a service account: %v", err)
		}
		_, unknown := s.SignIn(ctx, "nobody@acme.test", "correct horse battery")
		_, wrong := s.SignIn(ctx, "svc@acme.test", "wrong password")
		_, malformed := s.SignIn(ctx, "not an email", "x")
		for _, err := range []error{unknown, wrong, malformed} {
			if err != access.ErrBadCredentials {
				t.Fatalf("credential failure = %v, want the one answer %v", err, access.ErrBadCredentials)
			}
		}
		s.SignInServiceAccount(ctx, token, "svc@acme.test", "correct horse battery") // success resets the count

		// Ten consecutive failures; the 11th attempt is locked out, even with the right password.
		for i := 1; i <= access.LockoutThreshold; i++ {
			if _, err := s.SignIn(ctx, "svc@acme.test", "wrong"); err != access.ErrBadCredentials {
				t.Fatalf("failure %d: %v", i, err)
			}
		}
		_, err = s.SignInServiceAccount(ctx, token, "svc@acme.test", "correct horse battery")
		wantCode(t, err, verigate.ERATELIMITED)
		// An unknown email locks the same way, so lockout reveals nothing.
		for range access.LockoutThreshold {
			s.SignIn(ctx, "ghost@acme.test", "wrong")
		}
		_, err = s.SignIn(ctx, "ghost@acme.test", "wrong")
		wantCode(t, err, verigate.ERATELIMITED)

		clk.Advance(access.LockoutBase + time.Second)
		// One more failure after the lock doubles it.
		s.SignIn(ctx, "svc@acme.test", "wrong")
		clk.Advance(access.LockoutBase + time.Second)
		_, err = s.SignInServiceAccount(ctx, token, "svc@acme.test", "correct horse battery")
		wantCode(t, err, verigate.ERATELIMITED)
		clk.Advance(access.LockoutBase)
		if _, err := s.SignInServiceAccount(ctx, token, "svc@acme.test", "correct horse battery"); err != nil {
			t.Fatalf("after the doubled lock: %v", err)
		}

		// Disabling the reseller disables sign-in for everyone under it, with the same answer.
		if _, err := s.DisableOrganization(ctx, "acme"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SignIn(ctx, "person@acme.test", "person password"); err != access.ErrBadCredentials {
			t.Fatalf("disabled org sign-in: %v", err)
		}
		evs, _ := db.ListAuditEvents(ctx, verigate.AuditFilter{Action: "user.signin", Limit: 100})
		if len(evs) == 0 || evs[0].Outcome != verigate.OutcomeFailure {
			t.Fatalf("failed sign-ins not audited: %+v", evs)
		}
	})
}

func TestRehashOnSignIn(t *testing.T) {
	db := storetest.Open(t, sqlstore.SQLite)
	s, _, ctx := newService(t, db)
	u := seed(t, s, ctx) // hashed with cheap parameters
	if !strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash = %s", u.PasswordHash)
	}
	s.SetArgon2(access.DefaultArgon2)
	token, _, _ := s.IssueAccessToken(ctx, "acme")
	if _, err := s.SignInServiceAccount(ctx, token, "svc@acme.test", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	got, _ := db.GetUser(ctx, u.ID)
	if !strings.HasPrefix(got.PasswordHash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("not rehashed: %s", got.PasswordHash)
	}
	if _, err := s.SignInServiceAccount(ctx, token, "svc@acme.test", "correct horse battery"); err != nil {
		t.Fatalf("sign-in after rehash: %v", err)
	}
}

func TestCredentials(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		s, clk, ctx := newService(t, db)
		seed(t, s, ctx)
		viewer, err := s.CreateUser(ctx, access.UserInput{OrgKey: "acme", Email: "view@acme.test", Username: "v", Password: "viewer password", Roles: []string{"viewer"}})
		if err != nil {
			t.Fatal(err)
		}
		secrets := []string{"correct horse battery", "viewer password"}

		tok, at, err := s.IssueAccessToken(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, tok)
		if _, org, err := s.VerifyAccessToken(ctx, tok); err != nil || org.Key != "acme" {
			t.Fatalf("verify access token: %v %v", org, err)
		}
		_, _, err = s.IssueAccessToken(ctx, "acme-cu")
		wantCode(t, err, verigate.EINVALID)

		exp := clk.Now().Add(time.Hour)
		key, k, err := s.CreateAPIKey(ctx, access.APIKeyInput{OrgKey: "acme", UserEmail: "svc@acme.test",
			Scopes: []string{"otp:write", "status:read"}, Mode: verigate.ModeTest, ExpiresAt: &exp})
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, key)
		if !strings.HasPrefix(key, "vgk_"+k.ID+"_") {
			t.Fatalf("key %q does not carry id %s", key, k.ID)
		}
		gotKey, p, err := s.VerifyAPIKey(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if gotKey.ID != k.ID || !p.Can("otp.write", p.OrgID) || p.Can("users.read", "") || p.Mode != verigate.ModeTest {
			t.Fatalf("principal = %+v", p)
		}
		if len(p.Orgs) != 2 {
			t.Fatalf("reach of a reseller key = %v, want the reseller and its institution", p.Orgs)
		}

		// A key never exceeds its user.
		_, _, err = s.CreateAPIKey(ctx, access.APIKeyInput{OrgKey: "acme", UserEmail: viewer.Email, Scopes: []string{"otp:write"}})
		wantCode(t, err, verigate.EFORBIDDEN)
		_, _, err = s.CreateAPIKey(ctx, access.APIKeyInput{OrgKey: "acme", UserEmail: "svc@acme.test", Scopes: []string{"root:everything"}})
		wantCode(t, err, verigate.EINVALID)

		// Typos, tampering, expiry, revocation: all the one answer.
		flip := key[:len(key)-1] + string(rune(key[len(key)-1])^1)
		tamperedSecret := key[:20] + string(rune(key[20])^1) + key[21:]
		for _, bad := range []string{"", "vgk_", flip, tamperedSecret, strings.ToUpper(key), "Bearer " + key} {
			if _, _, err := s.VerifyAPIKey(ctx, bad); err != access.ErrInvalidAPIKey {
				t.Fatalf("VerifyAPIKey(%q) = %v", bad, err)
			}
		}
		clk.Advance(time.Hour)
		if _, _, err := s.VerifyAPIKey(ctx, key); err != access.ErrInvalidAPIKey {
			t.Fatalf("expired key: %v", err)
		}
		key2, k2, err := s.CreateAPIKey(ctx, access.APIKeyInput{OrgKey: "acme", UserEmail: "svc@acme.test", Scopes: []string{"status.read"}})
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, key2)
		if err := s.RevokeAPIKey(ctx, k2.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.VerifyAPIKey(ctx, key2); err != access.ErrInvalidAPIKey {
			t.Fatalf("revoked key: %v", err)
		}
		if err := s.RevokeAccessToken(ctx, at.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.VerifyAccessToken(ctx, tok); verigate.ErrorCode(err) != verigate.EUNAUTHENTICATED {
			t.Fatalf("revoked access token: %v", err)
		}

		// Nothing secret is stored in the clear, anywhere.
		dump := storetest.Dump(t, db)
		for _, secret := range secrets {
			if strings.Contains(dump, secret) || strings.Contains(dump, secret[max(0, len(secret)-20):]) {
				t.Fatalf("the database holds a plaintext credential (%q...)", secret[:8])
			}
		}
		if !strings.Contains(dump, "$argon2id$") {
			t.Fatal("dump does not look like the database")
		}
	})
}

func TestAuthorization(t *testing.T) {
	db := storetest.Open(t, sqlstore.SQLite)
	s, _, sys := newService(t, db)
	seed(t, s, sys)
	if _, err := s.CreateOrganization(sys, access.OrgInput{Kind: verigate.OrgReseller, Key: "other", Name: "Other"}); err != nil {
		t.Fatal(err)
	}
	acme, _ := db.GetOrganizationByKey(sys, "acme")
	reach, _ := db.OrgReach(sys, acme.ID)
	viewer := verigate.WithPrincipal(context.Background(), &verigate.Principal{Kind: verigate.PrincipalUser, ID: "u",
		OrgID: acme.ID, Orgs: reach, Permissions: verigate.RolePermissions(verigate.RoleViewer)})
	if _, err := s.Organization(viewer, "acme-cu"); err != nil {
		t.Fatalf("viewer reading its own institution: %v", err)
	}
	_, errOther := s.Organization(viewer, "other")
	_, errMissing := s.Organization(viewer, "missing")
	if verigate.ErrorCode(errOther) != verigate.ENOTFOUND || verigate.ErrorMessage(errOther) != verigate.ErrorMessage(errMissing) {
		t.Fatalf("foreign org %v differs from missing org %v", errOther, errMissing)
	}
	_, err := s.CreateOrganization(viewer, access.OrgInput{Kind: verigate.OrgInstitution, Key: "new-cu", Name: "New", ParentKey: "acme"})
	wantCode(t, err, verigate.EFORBIDDEN)
	_, err = s.DisableOrganization(context.Background(), "acme")
	wantCode(t, err, verigate.EUNAUTHENTICATED)
	orgs, _ := s.ListOrganizations(viewer, verigate.OrgFilter{})
	if len(orgs) != 2 {
		t.Fatalf("viewer sees %d organizations, want its 2", len(orgs))
	}
}

// TestSignInBurst: thirty parallel guesses get ten password checks; the
// rest are refused unchecked.
func TestSignInBurst(t *testing.T) {
	db := storetest.Open(t, sqlstore.SQLite)
	s, _, ctx := newService(t, db)
	seed(t, s, ctx)
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[string]int{}
	for range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.SignIn(ctx, "svc@acme.test", "wrong guess")
			mu.Lock()
			codes[verigate.ErrorCode(err)]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codes[verigate.EUNAUTHENTICATED] != access.LockoutThreshold || codes[verigate.ERATELIMITED] != 30-access.LockoutThreshold {
		t.Fatalf("outcomes of a burst: %v", codes)
	}
	// The refused guesses neither count nor extend the lock: it is the
	// first lock's length, not the longest.
	_, err := s.SignIn(ctx, "svc@acme.test", "wrong guess")
	var e *verigate.Error
	if !errors.As(err, &e) || e.RetryAfter <= 0 || e.RetryAfter > time.Minute+time.Second {
		t.Fatalf("after a burst: %#v", err)
	}
}
