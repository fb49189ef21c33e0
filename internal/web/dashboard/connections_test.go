package dashboard_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/app/apptest"
)

// openConnection opens a Sandbox Bank account of org (test mode, through
// /v1 as the organization's service account) and lets the worker run its
// login.
func openConnection(t *testing.T, e *apptest.Env, org, username string) string {
	t.Helper()
	key, _, err := e.App.Access.CreateAPIKey(e.System, access.APIKeyInput{OrgKey: org, UserEmail: "svc@" + org + ".test",
		Scopes: []string{"accounts:write"}, Mode: verigate.ModeTest})
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
	r := e.Do("POST", "/v1/accounts", map[string]any{"source_id": sandbox, "label": username + " login",
		"credentials": map[string]string{"username": username, "password": "pass"}}, "x-api-key", key)
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

func TestConnectionsAndCodes(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		op := as(t, e, "acme", "operator")
		id := openConnection(t, e, "acme", "otp")
		good := openConnection(t, e, "acme", "good")

		// Live data holds none; test data lists both.
		if p := op.get("/dashboard/"); !strings.Contains(p.Body, `href="/dashboard/connections"`) {
			t.Fatal("no connections link for an operator")
		}
		if p := op.get("/dashboard/connections"); p.Status != 200 || !strings.Contains(p.Text(), "No live connections") {
			t.Fatalf("live list: %d %s", p.Status, p.Text())
		}
		op.mode("test")
		p := op.get("/dashboard/connections")
		save(t, "connections", p)
		txt := p.Text()
		if p.Status != 200 || !strings.Contains(txt, "otp login") || !strings.Contains(txt, good) || !strings.Contains(txt, "awaiting_code") ||
			!strings.Contains(txt, "connected") || !strings.Contains(txt, "Sandbox Bank") || !strings.Contains(txt, "Reseller acme") ||
			!strings.Contains(p.Body, `href="/dashboard/connections/`+id+`"`) {
			t.Fatalf("test list: %d %s", p.Status, txt)
		}
		for _, bad := range []string{"?offset=x", "?offset=-1", "?offset=%00"} {
			if p := op.get("/dashboard/connections" + bad); p.Status != 400 {
				t.Errorf("list%s: %d", bad, p.Status)
			}
		}

		// The connection waits for a code: its prompt and the form.
		page := "/dashboard/connections/" + id
		p = op.get(page)
		save(t, "connection", p)
		if p.Status != 200 || !strings.Contains(p.Text(), "waiting for a 6-digit code for login") || !strings.Contains(p.Body, `name="code"`) {
			t.Fatalf("detail: %d %s", p.Status, p.Text())
		}
		// Invalid codes: the page again, with the message, nothing spent.
		for _, code := range []string{"", strings.Repeat("9", 33)} {
			p := op.post("/dashboard/connections/"+id+"/otp", url.Values{"code": {code}})
			if p.Status != 422 || !strings.Contains(p.Text(), "must be 1 to 32 characters") || !strings.Contains(p.Body, `name="code"`) {
				t.Fatalf("code %q: %d %s", code, p.Status, p.Text())
			}
		}
		// A wrong code reaches the bank, which refuses it.
		p = op.post("/dashboard/connections/"+id+"/otp", url.Values{"code": {"000000"}})
		if p.Status != http.StatusSeeOther || p.Location() != page {
			t.Fatalf("wrong code: %d %s", p.Status, p.Text())
		}
		if p := op.follow(p); !strings.Contains(p.Text(), "Code sent") || !strings.Contains(p.Text(), "being checked") || strings.Contains(p.Body, `name="code"`) {
			t.Fatalf("code in delivery: %s", p.Text())
		}
		work(t, e)
		if p := op.get(page); !strings.Contains(p.Text(), "1 wrong code so far") || !strings.Contains(p.Body, `name="code"`) {
			t.Fatalf("after a wrong code: %s", p.Text())
		}
		op.post("/dashboard/connections/"+id+"/otp", url.Values{"code": {connectSandboxCode}})
		work(t, e)
		if p := op.get(page); !strings.Contains(p.Text(), "connected") || !strings.Contains(p.Text(), "No code is awaited") {
			t.Fatalf("after the right code: %s", p.Text())
		}
		test := verigate.WithPrincipal(e.System, &verigate.Principal{Kind: verigate.PrincipalSystem, Mode: verigate.ModeTest})
		if c, pending, err := e.App.Connect.Status(test, id); err != nil || c.Status != verigate.ConnConnected || pending != nil {
			t.Fatalf("status: %v %v %v", c, pending, err)
		}
		// No code is awaited now.
		if p := op.post("/dashboard/connections/"+id+"/otp", url.Values{"code": {"123456"}}); p.Status != 409 || !strings.Contains(p.Text(), "not waiting") {
			t.Fatalf("code for nothing: %d %s", p.Status, p.Text())
		}

		// The other mode's, another tenant's, and malformed ids: missing.
		e.SeedReseller("beta", "beta-cu")
		other := openConnection(t, e, "beta", "otp")
		for _, path := range []string{"/dashboard/connections/" + other, "/dashboard/connections/not-a-uuid",
			"/dashboard/connections/00000000-0000-4000-8000-000000000000"} {
			if p := op.get(path); p.Status != 404 {
				t.Errorf("%s: %d", path, p.Status)
			}
		}
		op.mode("live")
		if p := op.get("/dashboard/connections/" + id); p.Status != 404 {
			t.Errorf("a test connection in live data: %d", p.Status)
		}
		op.mode("test")
		if p := op.post("/dashboard/connections/"+other+"/otp", url.Values{"code": {"123456"}}); p.Status != 404 {
			t.Errorf("code for another tenant's: %d", p.Status)
		}
		if p := op.post("/dashboard/connections/x/otp", url.Values{"code": {"123456"}}); p.Status != 404 {
			t.Errorf("code for a malformed id: %d", p.Status)
		}
	})
}

// connectSandboxCode is the Sandbox Bank's right code for "otp".
const connectSandboxCode = "123456"

func TestConnectionsRoles(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		viewer := as(t, e, "acme", "viewer")
		id := openConnection(t, e, "acme", "otp")
		viewer.mode("test")
		p := viewer.get("/dashboard/connections/" + id)
		if p.Status != 200 || !strings.Contains(p.Text(), "6-digit code") || strings.Contains(p.Body, `name="code"`) {
			t.Fatalf("viewer detail: %d %s", p.Status, p.Text())
		}
		if p := viewer.post("/dashboard/connections/"+id+"/otp", url.Values{"code": {"123456"}}); p.Status != 403 {
			t.Fatalf("viewer code: %d", p.Status)
		}
		reviewer := as(t, e, "acme", "reviewer")
		if p := reviewer.get("/dashboard/"); strings.Contains(p.Body, `href="/dashboard/connections"`) {
			t.Error("connections link for a reviewer")
		}
		for _, path := range []string{"/dashboard/connections", "/dashboard/connections/" + id} {
			if p := reviewer.get(path); p.Status != 403 {
				t.Errorf("reviewer %s: %d", path, p.Status)
			}
		}
	})
}
