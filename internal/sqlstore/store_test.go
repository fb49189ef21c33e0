package sqlstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/sqlstore"
	"github.com/verigate/verigate/internal/sqlstore/storetest"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func ev(action, target string) verigate.AuditEvent {
	return verigate.AuditEvent{At: t0, ActorKind: verigate.PrincipalSystem, ActorID: "test", Action: action,
		TargetKind: "test", TargetID: target, Outcome: verigate.OutcomeSuccess, RequestID: "req-1"}
}

func org(id, key string, kind verigate.OrgKind, parent string) *verigate.Organization {
	return &verigate.Organization{ID: id, Kind: kind, Key: key, Name: "Org " + key, ParentID: parent,
		Status: verigate.StatusActive, CreatedAt: t0, UpdatedAt: t0}
}

func code(t *testing.T, err error, want string) {
	t.Helper()
	if got := verigate.ErrorCode(err); got != want {
		t.Fatalf("error code = %q (%v), want %q", got, err, want)
	}
}

// TestStore is the store contract: every engine must pass all of it.
func TestStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		t.Run("organizations", func(t *testing.T) {
			p := org("p1", "platform", verigate.OrgPlatform, "")
			r := org("r1", "acme", verigate.OrgReseller, "p1")
			i := org("i1", "acme-cu", verigate.OrgInstitution, "r1")
			i.Core = "Symitar"
			for _, o := range []*verigate.Organization{p, r, i} {
				if err := db.CreateOrganization(ctx, o, ev("organization.create", o.ID)); err != nil {
					t.Fatal(err)
				}
			}
			got, err := db.GetOrganizationByKey(ctx, "acme-cu")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(i, got); diff != "" {
				t.Fatalf("round trip (-want +got):\n%s", diff)
			}
			dup := org("x", "acme", verigate.OrgReseller, "p1")
			code(t, db.CreateOrganization(ctx, dup, ev("organization.create", "x")), verigate.ECONFLICT)
			orphan := org("y", "orphan", verigate.OrgInstitution, "missing")
			if err := db.CreateOrganization(ctx, orphan, ev("organization.create", "y")); err == nil {
				t.Fatal("foreign key to a missing parent was accepted")
			}
			// A failed change writes no audit event.
			evs, err := db.ListAuditEvents(ctx, verigate.AuditFilter{TargetID: "x"})
			if err != nil || len(evs) != 0 {
				t.Fatalf("audit for failed create: %v %v", evs, err)
			}
			kids, err := db.ListOrganizations(ctx, verigate.OrgFilter{ParentID: "r1"})
			if err != nil || len(kids) != 1 || kids[0].Key != "acme-cu" {
				t.Fatalf("children of r1 = %v, %v", kids, err)
			}
			i.Status, i.Name = verigate.StatusDisabled, "Renamed"
			if err := db.UpdateOrganization(ctx, i, ev("organization.disable", "i1")); err != nil {
				t.Fatal(err)
			}
			got, _ = db.GetOrganization(ctx, "i1")
			if got.Status != verigate.StatusDisabled || got.Name != "Renamed" {
				t.Fatalf("after update: %+v", got)
			}
			code(t, db.UpdateOrganization(ctx, org("nope", "nope", verigate.OrgReseller, ""), ev("x", "nope")), verigate.ENOTFOUND)
			_, err = db.GetOrganizationByKey(ctx, "nope")
			code(t, err, verigate.ENOTFOUND)
		})

		t.Run("users", func(t *testing.T) {
			u := &verigate.User{ID: "u1", OrgID: "r1", Email: "svc@acme.test", Username: "svc", PasswordHash: "$argon2id$x",
				ServiceAccount: true, Roles: []string{"admin", "operator"}, Status: verigate.StatusActive, CreatedAt: t0, UpdatedAt: t0}
			if err := db.CreateUser(ctx, u, ev("user.create", "u1")); err != nil {
				t.Fatal(err)
			}
			got, err := db.GetUserByEmail(ctx, "svc@acme.test")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(u, got); diff != "" {
				t.Fatalf("round trip (-want +got):\n%s", diff)
			}
			dup := *u
			dup.ID = "u2"
			code(t, db.CreateUser(ctx, &dup, ev("user.create", "u2")), verigate.ECONFLICT)
			if _, err := db.GetUser(ctx, "u2"); verigate.ErrorCode(err) != verigate.ENOTFOUND {
				t.Fatal("half-written user after a conflict")
			}
			if err := db.SetPasswordHash(ctx, "u1", "$argon2id$y", ev("user.password_rehash", "u1")); err != nil {
				t.Fatal(err)
			}
			if got, _ := db.GetUser(ctx, "u1"); got.PasswordHash != "$argon2id$y" {
				t.Fatal("password hash not replaced")
			}
			users, err := db.ListUsers(ctx, "r1")
			if err != nil || len(users) != 1 {
				t.Fatalf("ListUsers = %v, %v", users, err)
			}
		})

		t.Run("signin failures", func(t *testing.T) {
			lockedUntil := t0.Add(time.Minute).UnixMilli()
			lock := func(n int) int64 {
				if n >= 3 {
					return lockedUntil + int64(n) // a later count would lock longer
				}
				return 0
			}
			for want := 1; want <= 3; want++ {
				n, _, err := db.CountSigninAttempt(ctx, "who@x.test", lock, t0)
				if err != nil || n != want {
					t.Fatalf("failure %d counted as %d, %v", want, n, err)
				}
			}
			// Attempts refused by the standing lock neither count nor extend it.
			for range 3 {
				n, prev, err := db.CountSigninAttempt(ctx, "who@x.test", lock, t0.Add(time.Second))
				if err != nil || n != 3 || prev != lockedUntil+3 {
					t.Fatalf("attempt under lock = %d, %d, %v", n, prev, err)
				}
			}
			n, until, err := db.SigninFailures(ctx, "who@x.test")
			if err != nil || n != 3 || until != lockedUntil+3 {
				t.Fatalf("SigninFailures = %d, %d, %v", n, until, err)
			}
			// Once the lock lapses the next attempt counts again.
			if n, _, _ := db.CountSigninAttempt(ctx, "who@x.test", lock, t0.Add(2*time.Minute)); n != 4 {
				t.Fatalf("attempt after lock counted as %d", n)
			}
			if err := db.ClearSigninFailures(ctx, "who@x.test"); err != nil {
				t.Fatal(err)
			}
			if n, until, _ := db.SigninFailures(ctx, "who@x.test"); n != 0 || until != 0 {
				t.Fatal("failures not cleared")
			}
		})

		t.Run("access tokens", func(t *testing.T) {
			tok := &verigate.AccessToken{ID: "t1", OrgID: "r1", Hash: []byte{1, 2, 3}, CreatedBy: "system", CreatedAt: t0}
			if err := db.CreateAccessToken(ctx, tok, ev("access_token.issue", "t1")); err != nil {
				t.Fatal(err)
			}
			got, err := db.GetAccessTokenByHash(ctx, []byte{1, 2, 3})
			if err != nil || got.ID != "t1" {
				t.Fatalf("by hash: %v %v", got, err)
			}
			if err := db.TouchAccessToken(ctx, "t1", t0.Add(time.Second)); err != nil {
				t.Fatal(err)
			}
			// A second touch within a minute is not written.
			db.TouchAccessToken(ctx, "t1", t0.Add(30*time.Second))
			got, _ = db.GetAccessToken(ctx, "t1")
			if got.LastUsedAt == nil || !got.LastUsedAt.Equal(t0.Add(time.Second)) {
				t.Fatalf("last used = %v", got.LastUsedAt)
			}
			if err := db.RevokeAccessToken(ctx, "t1", ev("access_token.revoke", "t1")); err != nil {
				t.Fatal(err)
			}
			code(t, db.RevokeAccessToken(ctx, "t1", ev("access_token.revoke", "t1")), verigate.ECONFLICT)
			code(t, db.RevokeAccessToken(ctx, "nope", ev("access_token.revoke", "nope")), verigate.ENOTFOUND)
			list, _ := db.ListAccessTokens(ctx, "r1")
			if len(list) != 1 || list[0].RevokedAt == nil {
				t.Fatalf("list = %+v", list)
			}
		})

		t.Run("api keys", func(t *testing.T) {
			exp := t0.Add(time.Hour)
			k := &verigate.APIKey{ID: "0a1b2c3d", OrgID: "r1", UserID: "u1", Name: "ci", Hash: []byte("h"),
				Scopes: []string{"otp:write", "status:read"}, Accounts: []string{"acc-1"}, Mode: verigate.ModeTest,
				RateLimit: verigate.RateLimitPolicy{TTL: 10 * time.Second, Limit: 5, BlockDuration: 30 * time.Second},
				ExpiresAt: &exp, CreatedAt: t0}
			if err := db.CreateAPIKey(ctx, k, ev("api_key.create", k.ID)); err != nil {
				t.Fatal(err)
			}
			got, err := db.GetAPIKey(ctx, k.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(k, got); diff != "" {
				t.Fatalf("round trip (-want +got):\n%s", diff)
			}
			code(t, db.CreateAPIKey(ctx, k, ev("api_key.create", k.ID)), verigate.ECONFLICT)
			if err := db.RevokeAPIKey(ctx, k.ID, ev("api_key.revoke", k.ID)); err != nil {
				t.Fatal(err)
			}
			keys, err := db.ListAPIKeys(ctx, "r1")
			if err != nil || len(keys) != 1 || keys[0].RevokedAt == nil {
				t.Fatalf("list = %+v, %v", keys, err)
			}
		})

		t.Run("audit", func(t *testing.T) {
			e := ev("thing.happen", "target-9")
			e.RequestedBy, e.OrgID, e.Details = "jdoe", "r1", map[string]any{"n": float64(1)}
			if err := db.RecordAudit(ctx, e); err != nil {
				t.Fatal(err)
			}
			got, err := db.ListAuditEvents(ctx, verigate.AuditFilter{TargetID: "target-9"})
			if err != nil || len(got) != 1 {
				t.Fatalf("audit = %v, %v", got, err)
			}
			e.ID = got[0].ID
			if diff := cmp.Diff(e, got[0]); diff != "" {
				t.Fatalf("round trip (-want +got):\n%s", diff)
			}
			all, _ := db.ListAuditEvents(ctx, verigate.AuditFilter{Limit: 1000})
			if len(all) < 8 {
				t.Fatalf("only %d audit events for all the changes above", len(all))
			}
		})

		t.Run("migrations", func(t *testing.T) {
			pending, err := db.Pending(ctx)
			if err != nil || pending {
				t.Fatalf("pending = %v, %v", pending, err)
			}
			st, err := db.MigrationStatus(ctx)
			if err != nil || len(st) == 0 || st[0].AppliedAt == nil || !strings.HasSuffix(st[0].Name, ".sql") {
				t.Fatalf("status = %+v, %v", st, err)
			}
			if n, err := db.Migrate(ctx); err != nil || n != 0 {
				t.Fatalf("second migrate ran %d, %v", n, err)
			}
		})
	})
}

// TestEndedContext: reads may run detached from cancellation
// (runner.detach), but a context that has already ended still stops them.
func TestEndedContext(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		p := org("p1", "platform", verigate.OrgPlatform, "")
		if err := db.CreateOrganization(ctx, p, ev("organization.create", p.ID)); err != nil {
			t.Fatal(err)
		}
		if _, err := db.GetOrganizationByKey(ctx, "platform"); err != nil {
			t.Fatal(err)
		}
		ended, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := db.GetOrganizationByKey(ended, "platform"); err == nil {
			t.Fatal("a read under an ended context succeeded")
		}
		if _, err := db.ListOrganizations(ended, verigate.OrgFilter{}); err == nil {
			t.Fatal("a list under an ended context succeeded")
		}
	})
}
