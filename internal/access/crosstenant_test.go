package access_test

import (
	"strings"
	"testing"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/sqlstore"
	"github.com/verigate/verigate/internal/sqlstore/storetest"
)

// TestForeignKeysAnswerAsMissing: naming another tenant's organization by
// key (a user's organization, an institution's parent) answers exactly as
// naming one that does not exist.
func TestForeignKeysAnswerAsMissing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		s, _, sys := newService(t, db)
		seed(t, s, sys)
		for _, in := range []access.OrgInput{{Kind: verigate.OrgReseller, Key: "bravo", Name: "Bravo"},
			{Kind: verigate.OrgInstitution, Key: "bravo-cu", Name: "Bravo CU", ParentKey: "bravo"}} {
			if _, err := s.CreateOrganization(sys, in); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.CreateUser(sys, access.UserInput{OrgKey: "acme", Email: "olivia@acme.test", Username: "olivia",
			Password: "password of olivia", Roles: []string{verigate.RoleOwner}}); err != nil {
			t.Fatal(err)
		}
		_, _, p, err := s.SignInToken(sys, "olivia@acme.test", "password of olivia", "", "")
		if err != nil {
			t.Fatal(err)
		}
		ctx := verigate.WithPrincipal(sys, p)
		// The answers may repeat the key asked for, and nothing else.
		same := func(name string, run func(key string) error) {
			t.Helper()
			foreign, missing := run("bravo"), run("nope")
			f := strings.ReplaceAll(verigate.ErrorMessage(foreign), "bravo", "<key>")
			m := strings.ReplaceAll(verigate.ErrorMessage(missing), "nope", "<key>")
			if foreign == nil || verigate.ErrorCode(foreign) != verigate.ErrorCode(missing) || f != m {
				t.Errorf("%s: foreign %v, missing %v", name, foreign, missing)
			}
		}
		same("a user's organization", func(key string) error {
			_, err := s.CreateUser(ctx, access.UserInput{OrgKey: key, Email: "x@acme.test", Username: "x", Password: "password of x", Roles: []string{"viewer"}})
			return err
		})
		same("an institution's parent", func(key string) error {
			_, err := s.CreateOrganization(ctx, access.OrgInput{Kind: verigate.OrgInstitution, Key: "x-cu", Name: "X", ParentKey: key})
			return err
		})
	})
}
