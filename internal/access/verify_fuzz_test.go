package access_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/sqlstore"
	"github.com/verigate/verigate/internal/sqlstore/storetest"
)

// credentials is one live credential of every kind, and how to verify
// each, on a real SQLite store.
type credentials struct {
	secrets [5]string // API key, access token, SSO token, user token, login token
	verify  [5]func(string) error
}

func issueCredentials(tb testing.TB) *credentials {
	db := storetest.Open(tb, sqlstore.SQLite)
	s := access.New(db)
	s.SetArgon2(cheap)
	s.Now = func() time.Time { return time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC) }
	ctx := verigate.WithPrincipal(context.Background(), verigate.System)
	must := func(err error) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
	}
	_, err := s.CreateOrganization(ctx, access.OrgInput{Kind: verigate.OrgReseller, Key: "acme", Name: "Acme"})
	must(err)
	inst, err := s.CreateOrganization(ctx, access.OrgInput{Kind: verigate.OrgInstitution, Key: "acme-cu", Name: "Acme CU", ParentKey: "acme", Core: "Symitar"})
	must(err)
	u, err := s.CreateUser(ctx, access.UserInput{OrgKey: "acme", Email: "svc@acme.test", Username: "svc",
		Password: "correct horse battery", Roles: []string{verigate.RoleOwner}, ServiceAccount: true})
	must(err)
	_, err = s.CreateUser(ctx, access.UserInput{OrgKey: "acme", Email: "dev@acme.test", Username: "dev",
		Password: "correct horse battery", Roles: []string{verigate.RoleOwner}})
	must(err)
	c := &credentials{}
	c.secrets[0], _, err = s.CreateAPIKey(ctx, access.APIKeyInput{OrgKey: "acme", UserEmail: "svc@acme.test", Scopes: []string{"connections:read"}, Mode: verigate.ModeLive})
	must(err)
	c.secrets[1], _, err = s.IssueAccessToken(ctx, "acme")
	must(err)
	g, err := s.RequestSSOToken(context.Background(), c.secrets[1], u.Email, "correct horse battery")
	must(err)
	c.secrets[2] = g.Secret
	c.secrets[3], _, _, err = s.SignInToken(context.Background(), "dev@acme.test", "correct horse battery", "", "")
	must(err)
	c.secrets[4], _, err = s.IssueLoginToken(ctx, inst, "operator")
	must(err)
	c.verify = [5]func(string) error{
		func(k string) error { _, _, err := s.VerifyAPIKey(ctx, k); return err },
		func(k string) error { _, _, err := s.VerifyAccessToken(ctx, k); return err },
		func(k string) error { _, err := s.VerifySSOToken(ctx, k); return err },
		func(k string) error { _, _, err := s.VerifyToken(ctx, k); return err },
		func(k string) error { _, err := s.RedeemLoginToken(ctx, k); return err },
	}
	// Every issued credential verifies (the login token is single use, so
	// it is not redeemed here).
	for i := 0; i < 4; i++ {
		must(c.verify[i](c.secrets[i]))
	}
	return c
}

// FuzzVerifyCredentials: whatever string arrives in a credential header,
// every verifier answers either success, for exactly the credential it
// issued, or EUNAUTHENTICATED — never another error (a 500), never
// success for a different string. A live credential with one byte changed
// is refused (an SSO token only by a change other than its letter case).
func FuzzVerifyCredentials(f *testing.F) {
	c := issueCredentials(f)
	f.Add("", uint8(0), uint16(0), byte('x'))
	f.Add("vgk_00000000_"+strings.Repeat("0", 38), uint8(0), uint16(20), byte(0))
	f.Add("vgat_\x00\xff", uint8(1), uint16(5), byte(0xff))
	f.Add("0F8FAD5B-D9CB-469F-A165-70867728950E", uint8(2), uint16(3), byte('A'))
	f.Add("vgt_"+strings.Repeat("a", 200), uint8(3), uint16(4), byte(' '))
	f.Add(strings.Repeat("ab", 32), uint8(4), uint16(63), byte('0'))
	f.Fuzz(func(t *testing.T, secret string, which uint8, pos uint16, b byte) {
		check := func(kind int, s string, mayPass bool) {
			err := c.verify[kind](s)
			switch {
			case err == nil && !mayPass:
				t.Fatalf("verifier %d accepted %q", kind, s)
			case err != nil && verigate.ErrorCode(err) != verigate.EUNAUTHENTICATED:
				t.Fatalf("verifier %d on %q: %v (code %q), want EUNAUTHENTICATED", kind, s, err, verigate.ErrorCode(err))
			}
		}
		for kind := range c.verify {
			live := c.secrets[kind]
			check(kind, secret, kind != 4 && (secret == live || kind == 2 && strings.EqualFold(secret, live)))
		}
		kind := int(which) % len(c.secrets)
		live := c.secrets[kind]
		i := int(pos) % len(live)
		if live[i] == b {
			return
		}
		bad := live[:i] + string([]byte{b}) + live[i+1:]
		check(kind, bad, kind == 2 && strings.EqualFold(bad, live))
	})
}
