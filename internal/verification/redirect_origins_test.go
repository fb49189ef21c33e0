package verification_test

import (
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/app/apptest"
	"github.com/verigate/verigate/internal/verification"
)

// TestRedirectOrigins: an organization's allow-list governs its sessions'
// redirectUrl and its institutions' (unless they have their own); only a
// principal holding organizations.update on it sets it.
func TestRedirectOrigins(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		e.SeedReseller("acme", "acme-cu")
		e.SeedReseller("other")
		ctx := partnerCtx(t, e, "acme", partnerScopes...)
		future := e.Clock.Now().Add(time.Hour)
		create := func(inst, redirect string) error {
			_, _, err := e.App.Verify.CreateSession(ctx, verification.SessionInput{ExpiryDate: future, InstitutionKey: inst, RedirectURL: redirect})
			return err
		}
		if err := create("", "http://anywhere.example/x"); err != nil {
			t.Fatalf("no list: %v", err)
		}
		for _, bad := range [][]string{{"http://a.example"}, {"https://a.example/path"}, {"nope"}, {"https://a.example?x=1"}} {
			if err := e.App.Verify.SetRedirectOrigins(e.System, "acme", bad); verigate.ErrorCode(err) != verigate.EINVALID {
				t.Errorf("%q: %v", bad, err)
			}
		}
		if err := e.App.Verify.SetRedirectOrigins(e.System, "acme", []string{"https://Shop.Example", "https://shop.example/"}); err != nil {
			t.Fatal(err)
		}
		set, err := e.App.Verify.Settings(e.System, "acme")
		if err != nil || len(set.RedirectOrigins) != 1 || set.RedirectOrigins[0] != "https://shop.example" {
			t.Fatalf("settings %+v %v", set, err)
		}
		for _, inst := range []string{"", "acme-cu"} {
			if err := create(inst, "https://shop.example/done?x=1"); err != nil {
				t.Errorf("%q inside: %v", inst, err)
			}
			for _, out := range []string{"https://evil.example/done", "http://shop.example/done", "https://shop.example:8443/"} {
				err := create(inst, out)
				if ve, ok := err.(*verigate.Error); !ok || ve.Code != verigate.EINVALID || ve.Fields["redirectUrl"] == "" {
					t.Errorf("%q %s: %v", inst, out, err)
				}
			}
		}
		// The institution's own list takes over from its reseller's.
		if err := e.App.Verify.SetRedirectOrigins(e.System, "acme-cu", []string{"https://cu.example"}); err != nil {
			t.Fatal(err)
		}
		if err := create("acme-cu", "https://cu.example/"); err != nil {
			t.Errorf("institution's own list: %v", err)
		}
		if err := create("acme-cu", "https://shop.example/"); err == nil {
			t.Error("the reseller's list still applied to an institution with its own")
		}
		// Another tenant's organization answers as a missing one; a
		// principal without organizations.update is refused.
		if err := e.App.Verify.SetRedirectOrigins(ctx, "other", nil); verigate.ErrorCode(err) != verigate.ENOTFOUND {
			t.Errorf("foreign: %v", err)
		}
		if err := e.App.Verify.SetRedirectOrigins(ctx, "acme", nil); verigate.ErrorCode(err) != verigate.EFORBIDDEN {
			t.Errorf("without organizations.update: %v", err)
		}
		if _, err := e.App.Verify.Settings(ctx, "other"); verigate.ErrorCode(err) != verigate.ENOTFOUND && verigate.ErrorCode(err) != verigate.EFORBIDDEN {
			t.Errorf("foreign settings: %v", err)
		}
	})
}
