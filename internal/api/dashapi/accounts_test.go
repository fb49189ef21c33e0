package dashapi_test

import (
	"context"
	"testing"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/app/apptest"
)

// connect opens a Sandbox Bank account of org (through /v1, as a service
// of the organization would) and lets the worker run its login.
func connect(t *testing.T, e *apptest.Env, org, username string) string {
	t.Helper()
	key, _, err := e.App.Access.CreateAPIKey(e.System, access.APIKeyInput{OrgKey: org, UserEmail: "svc@" + org + ".test", Scopes: []string{"accounts:write"}, Mode: verigate.ModeTest})
	if err != nil {
		t.Fatal(err)
	}
	srcs, _ := e.App.Verify.Sources(e.System)
	var sandbox int64
	for _, s := range srcs {
		if s.SourceName == "Sandbox Bank" {
			sandbox = s.ID
		}
	}
	r := e.Do("POST", "/v1/accounts", map[string]any{"source_id": sandbox, "credentials": map[string]string{"username": username, "password": "pass"}}, "x-api-key", key)
	if r.Status != 201 {
		t.Fatalf("create account: %d %s", r.Status, r.Body)
	}
	work(t, e)
	return r.JSON(t)["account_id"].(string)
}

func work(t *testing.T, e *apptest.Env) {
	t.Helper()
	if _, err := e.App.Worker.Work(context.Background()); err != nil {
		t.Fatal(err)
	}
}

type statusBody struct {
	AccountID         string `json:"account_id"`
	SessionRunning    bool   `json:"session_running"`
	PendingAssistance *struct {
		Type       string
		Attempts   int
		Descriptor struct{ Length int }
	} `json:"pending_assistance"`
}

func TestAccountOTP(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		e.SeedReseller("acme", "acme-cu")
		op := loginMode(t, e, person(t, e, "acme", "op", verigate.RoleOperator), "test")
		id := connect(t, e, "acme", "otp")
		status := func() statusBody {
			t.Helper()
			r := e.Do("GET", "/api/accounts/"+id+"/status", nil, bearer(op)...)
			if r.Status != 200 {
				t.Fatalf("status: %d %s", r.Status, r.Body)
			}
			var s statusBody
			r.Decode(t, &s)
			return s
		}
		if s := status(); s.AccountID != id || !s.SessionRunning || s.PendingAssistance == nil || s.PendingAssistance.Type != "otp" || s.PendingAssistance.Descriptor.Length != 6 {
			t.Fatalf("waiting for a code: %+v", s)
		}
		otp := func(code any) *apptest.Response {
			return e.Do("POST", "/api/accounts/"+id+"/otp", map[string]any{"code": code}, bearer(op)...)
		}
		// Bad input: no code, a code of the wrong type or length.
		wantError(t, e.Do("POST", "/api/accounts/"+id+"/otp", map[string]any{}, bearer(op)...), 400)
		wantError(t, otp(123456), 400)
		wantError(t, otp(""), 400)
		wantError(t, e.Do("POST", "/api/accounts/not-a-uuid/otp", map[string]any{"code": "1"}, bearer(op)...), 400)
		if r := otp("000000"); r.Status != 202 || string(r.Body) != "{\"submitted\":true}\n" {
			t.Fatalf("wrong code: %d %s", r.Status, r.Body)
		}
		work(t, e)
		if s := status(); s.PendingAssistance == nil || s.PendingAssistance.Attempts != 1 {
			t.Fatalf("after a wrong code: %+v", s)
		}
		if r := otp("123456"); r.Status != 202 {
			t.Fatalf("right code: %d %s", r.Status, r.Body)
		}
		work(t, e)
		if s := status(); s.SessionRunning || s.PendingAssistance != nil {
			t.Fatalf("after the right code: %+v", s)
		}
		// Nothing waits now: as /v1 answers.
		wantError(t, otp("123456"), 404)
	})
}

func TestAccountsCrossTenant(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		e.SeedReseller("acme", "acme-cu")
		e.SeedReseller("beta", "beta-cu")
		id := connect(t, e, "acme", "otp")
		own := loginMode(t, e, person(t, e, "acme", "op", verigate.RoleOperator), "test")
		other := loginMode(t, e, person(t, e, "beta", "op", verigate.RoleOwner), "test")
		viewer := loginMode(t, e, person(t, e, "acme", "viewer", verigate.RoleViewer), "test")
		// A live-mode token does not see a test account, as with an API key.
		live := login(t, e, person(t, e, "acme", "live", verigate.RoleOperator))
		wantError(t, e.Do("GET", "/api/accounts/"+id+"/status", nil, bearer(live)...), 404)
		const missing = "00000000-0000-4000-8000-000000000000"
		for _, c := range []struct {
			method, suffix string
			body           any
		}{{"GET", "/status", nil}, {"POST", "/otp", map[string]string{"code": "123456"}}} {
			a := e.Do(c.method, "/api/accounts/"+id+c.suffix, c.body, bearer(other)...)
			b := e.Do(c.method, "/api/accounts/"+missing+c.suffix, c.body, bearer(other)...)
			if a.Status != 404 || b.Status != 404 || wantError(t, a, 404) != wantError(t, b, 404) {
				t.Fatalf("%s %s: another tenant's %d %s, a missing one's %d %s", c.method, c.suffix, a.Status, a.Body, b.Status, b.Body)
			}
		}
		// The viewer reads the status, but may not submit a code.
		if r := e.Do("GET", "/api/accounts/"+id+"/status", nil, bearer(viewer)...); r.Status != 403 && r.Status != 200 {
			t.Fatalf("viewer status: %d %s", r.Status, r.Body)
		}
		wantError(t, e.Do("POST", "/api/accounts/"+id+"/otp", map[string]string{"code": "123456"}, bearer(viewer)...), 403)
		// The code nobody else could submit still waits for its owner.
		r := e.Do("GET", "/api/accounts/"+id+"/status", nil, bearer(own)...)
		var s statusBody
		r.Decode(t, &s)
		if s.PendingAssistance == nil || s.PendingAssistance.Attempts != 0 {
			t.Fatalf("after the refusals: %s", r.Body)
		}
	})
}
