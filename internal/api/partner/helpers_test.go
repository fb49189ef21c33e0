package partner_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/app/apptest"
)

var partnerScopes = []string{"verifications:create", "verifications:read", "verifications:update", "verifications:review", "sources:read"}

// fixture is a reseller with an institution and API keys.
type fixture struct {
	e              *apptest.Env
	r              *apptest.Reseller
	live, test     string // API keys
	sandboxReclaim int64
}

func newFixture(t *testing.T, e *apptest.Env) *fixture {
	f := &fixture{e: e, r: e.SeedReseller("acme", "acme-cu")}
	f.live = f.key(t, "acme", verigate.ModeLive, nil, partnerScopes...)
	f.test = f.key(t, "acme", verigate.ModeTest, nil, partnerScopes...)
	f.sandboxReclaim = sourceID(t, e, "Sandbox Reclaim")
	return f
}

// sourceID is the id of the catalog source named name.
func sourceID(t *testing.T, e *apptest.Env, name string) int64 {
	t.Helper()
	srcs, err := e.App.Verify.Sources(e.System)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range srcs {
		if s.SourceName == name {
			return s.ID
		}
	}
	t.Fatalf("no source %q", name)
	return 0
}

func (f *fixture) key(t *testing.T, org string, mode verigate.Mode, rl *verigate.RateLimitPolicy, scopes ...string) string {
	t.Helper()
	email := "svc@" + org + ".test"
	k, _, err := f.e.App.Access.CreateAPIKey(f.e.System, access.APIKeyInput{OrgKey: org, UserEmail: email, Scopes: scopes, Mode: mode, RateLimit: rl})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func sqliteEnv(t *testing.T) *apptest.Env { return apptest.SQLite(t) }

// created is the create-session response.
type created struct {
	Success bool
	Message string
	Data    struct {
		ID               int64
		Status           string
		VerificationLink struct {
			ManualVerificationLink, DeeplinkVerificationLink, Token string
		}
	}
}

func (f *fixture) createSession(t *testing.T, key string, params map[string]any) created {
	t.Helper()
	if params == nil {
		params = map[string]any{}
	}
	if _, ok := params["expiryDate"]; !ok {
		params["expiryDate"] = f.e.Clock.Now().Add(48 * time.Hour).Format(time.RFC3339)
	}
	resp := f.e.Do("POST", "/partner/session", map[string]any{"params": params}, "x-api-key", key)
	if resp.Status != 201 {
		t.Fatalf("create session: %d %s", resp.Status, resp.Body)
	}
	var c created
	resp.Decode(t, &c)
	return c
}

// csrf opens a session's link and returns the CSRF token.
func (f *fixture) csrf(t *testing.T, c created) string {
	t.Helper()
	resp := f.e.Do("GET", fmt.Sprintf("/partner/verification/verify?token=%s&sessionId=%d", c.Data.VerificationLink.Token, c.Data.ID), nil, "Accept", "application/json")
	if resp.Status != 200 {
		t.Fatalf("verify link: %d %s", resp.Status, resp.Body)
	}
	return resp.JSON(t)["csrfToken"].(string)
}

// startStep selects a source and initiates its step; it returns the step id.
// bankStep creates a test-mode session, opens it as its applicant and
// initiates a Sandbox Bank step: the session, the applicant's CSRF token
// and the step's id.
func (f *fixture) bankStep(t *testing.T) (created, string, int64) {
	t.Helper()
	c := f.createSession(t, f.test, nil)
	csrf := f.csrf(t, c)
	return c, csrf, f.startStep(t, c, csrf, sourceID(t, f.e, "Sandbox Bank"))
}

func (f *fixture) startStep(t *testing.T, c created, csrf string, source int64) int64 {
	t.Helper()
	if r := f.e.Do("POST", "/partner/step/select-data-source", map[string]any{"dataSourceIds": []int64{source}, "sessionId": c.Data.ID}, "x-csrf-token", csrf); r.Status != 201 {
		t.Fatalf("select: %d %s", r.Status, r.Body)
	}
	var steps struct {
		Data struct {
			Steps []struct{ ID, DataSourceID int64 }
		}
	}
	f.e.Do("GET", fmt.Sprintf("/partner/steps/session/%d", c.Data.ID), nil, "x-csrf-token", csrf).Decode(t, &steps)
	var id int64
	for _, s := range steps.Data.Steps {
		if s.DataSourceID == source {
			id = s.ID
		}
	}
	if r := f.e.Do("POST", "/partner/step/initiate", map[string]any{"stepId": id}, "x-csrf-token", csrf); r.Status != 201 {
		t.Fatalf("initiate: %d %s", r.Status, r.Body)
	}
	return id
}

func (f *fixture) sandboxProof(t *testing.T, stepID int64) json.RawMessage {
	t.Helper()
	p, err := f.e.App.Verify.SandboxProof(f.e.System, stepID)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(p)
	return b
}

func wantError(t *testing.T, resp *apptest.Response, status int, contains string) {
	t.Helper()
	if resp.Status != status {
		t.Fatalf("status = %d, want %d: %s", resp.Status, status, resp.Body)
	}
	var e struct {
		StatusCode     int
		Message, Error string
	}
	resp.Decode(t, &e)
	m := resp.JSON(t)
	if e.StatusCode != status || e.Error == "" || e.Message == "" || len(m) != 3 {
		t.Fatalf("error body %s is not {statusCode, message, error}", resp.Body)
	}
	if contains != "" && !strings.Contains(strings.ToLower(e.Message+" "+e.Error), strings.ToLower(contains)) {
		t.Fatalf("error %s lacks %q", resp.Body, contains)
	}
}
