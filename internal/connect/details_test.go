package connect_test

import (
	"context"
	"testing"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/app/apptest"
	"github.com/verigate/verigate/internal/connect"
)

func TestDetails(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		e.SeedReseller("acme", "acme-cu")
		e.SeedReseller("beta", "beta-cu")
		key := func(org string) (string, context.Context) {
			secret, _, err := e.App.Access.CreateAPIKey(e.System, access.APIKeyInput{OrgKey: org, UserEmail: "svc@" + org + ".test",
				Scopes: []string{"accounts:write", "accounts:read"}, Mode: verigate.ModeTest})
			if err != nil {
				t.Fatal(err)
			}
			_, p, err := e.App.Access.VerifyAPIKey(e.System, secret)
			if err != nil {
				t.Fatal(err)
			}
			return secret, verigate.WithPrincipal(context.Background(), p)
		}
		_, acme := key("acme")
		_, beta := key("beta")
		srcs, _ := e.App.Verify.Sources(e.System)
		var sandbox int64
		for _, s := range srcs {
			if s.SourceName == "Sandbox Bank" {
				sandbox = s.ID
			}
		}
		c, err := e.App.Connect.Create(acme, connect.CreateInput{SourceID: sandbox, Label: "mine",
			Credentials: connect.Credentials{"username": "otp", "password": "pass"}})
		if err != nil {
			t.Fatal(err)
		}
		// Before the login runs: the whole connection, nothing pending.
		got, req, err := e.App.Connect.Details(acme, c.ID)
		if err != nil || got.Label != "mine" || got.SourceID != sandbox || got.CreatedAt.IsZero() || req != nil {
			t.Fatalf("queued: %+v %+v %v", got, req, err)
		}
		if _, err := e.App.Worker.Work(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, req, err = e.App.Connect.Details(acme, c.ID); err != nil || req == nil || req.Descriptor.Length != 6 || req.Code != nil {
			t.Fatalf("awaiting a code: %+v %v", req, err)
		}
		if err := e.App.Connect.SubmitCode(acme, c.ID, "123456"); err == nil {
			t.Fatal("a key without otp:write submitted a code")
		}
		if err := e.App.Connect.SubmitCode(verigate.WithPrincipal(e.System, &verigate.Principal{Kind: verigate.PrincipalSystem, Mode: verigate.ModeTest}), c.ID, "123456"); err != nil {
			t.Fatal(err)
		}
		if _, req, err = e.App.Connect.Details(acme, c.ID); err != nil || req == nil || req.Code == nil {
			t.Fatalf("a code in delivery: %+v %v", req, err)
		}
		// Another tenant's: missing.
		if _, _, err := e.App.Connect.Details(beta, c.ID); verigate.ErrorCode(err) != verigate.ENOTFOUND {
			t.Fatalf("another tenant's: %v", err)
		}
	})
}
