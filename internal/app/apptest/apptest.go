// Package apptest runs a whole Verigate app in a test, on every store
// engine, with a fake clock, and sends it requests that are checked
// against the OpenAPI document.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/app"
	"github.com/verigate/verigate/internal/config"
	"github.com/verigate/verigate/internal/openapi/openapitest"
	"github.com/verigate/verigate/internal/sqlstore"
	"github.com/verigate/verigate/internal/sqlstore/storetest"
)

// Clock is a fake clock.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the fake time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Advance moves the fake time on.
func (c *Clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// Env is a running app under test.
type Env struct {
	T     testing.TB
	App   *app.App
	Clock *Clock
	V     *openapitest.Validator
	Logs  *bytes.Buffer
	// System is a context acting as the system principal.
	System context.Context
	env    map[string]string
}

// Each runs fn against a fresh app on every engine.
func Each(t *testing.T, fn func(t *testing.T, e *Env)) { EachWithEnv(t, nil, fn) }

// EachWithEnv is Each with the app configured with env (VERIGATE_…
// variables) besides the test defaults.
func EachWithEnv(t *testing.T, env map[string]string, fn func(t *testing.T, e *Env)) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) { fn(t, NewWithEnv(t, db, env)) })
}

// Replica builds a second app on e's database and configuration, as
// another server of the same deployment.
func (e *Env) Replica() *Env { return NewWithEnv(e.T, e.App.DB, e.env) }

// New builds an app on db.
func New(t testing.TB, db *sqlstore.DB) *Env { return NewWithEnv(t, db, nil) }

// NewWithEnv builds an app on db configured with env (VERIGATE_…
// variables) besides the test defaults.
func NewWithEnv(t testing.TB, db *sqlstore.DB, env map[string]string) *Env {
	// Webhook endpoints may be local receivers, and no test resolves a
	// name: a test of the SSRF guard sets VERIGATE_WEBHOOK_ALLOW_PRIVATE=false.
	vars := map[string]string{"VERIGATE_SECRET_KEY": strings.Repeat("t", 32), "VERIGATE_PUBLIC_URL": "https://verigate.test",
		"VERIGATE_WEBHOOK_ALLOW_PRIVATE": "true"}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewJSONHandler(logs, nil)), db)
	if err != nil {
		t.Fatal(err)
	}
	a.Access.SetArgon2(access.Argon2Params{Memory: 64, Time: 1, Threads: 1})
	clk := &Clock{t: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)}
	a.SetClock(clk.Now)
	return &Env{T: t, App: a, Clock: clk, V: openapitest.New(t), Logs: logs, System: verigate.WithPrincipal(context.Background(), verigate.System), env: env}
}

// Response is a recorded response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a generic map.
func (r *Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v\n%s", err, r.Body)
	}
	return m
}

// Decode decodes the body into v.
func (r *Response) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode response: %v\n%s", err, r.Body)
	}
}

// Do sends a request: body may be nil, a string (sent as is) or a value
// (sent as JSON with Content-Type application/json). headers alternate
// names and values. The response must match the OpenAPI document.
func (e *Env) Do(method, path string, body any, headers ...string) *Response {
	e.T.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.T.Fatal(err)
		}
		rd, ct = bytes.NewReader(j), "application/json"
	}
	req := httptest.NewRequest(method, path, rd)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := e.V.Serve(e.T, e.App.Server, req)
	return &Response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

// Raw sends a request without checking it against the document, for
// requests the document cannot describe (a wrong method, a huge header).
func (e *Env) Raw(req *http.Request) *Response {
	rec := httptest.NewRecorder()
	e.App.Server.ServeHTTP(rec, req)
	return &Response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

// Reseller is a seeded reseller with its credentials.
type Reseller struct {
	Key, AccessToken, Email, Password string
	Institutions                      []string
}

// SeedReseller creates reseller key with institutions, an owner service
// account and an onboarding access token.
func (e *Env) SeedReseller(key string, institutions ...string) *Reseller {
	e.T.Helper()
	ctx := e.System
	if _, err := e.App.Access.CreateOrganization(ctx, access.OrgInput{Kind: verigate.OrgReseller, Key: key, Name: "Reseller " + key}); err != nil {
		e.T.Fatal(err)
	}
	for _, inst := range institutions {
		if _, err := e.App.Access.CreateOrganization(ctx, access.OrgInput{Kind: verigate.OrgInstitution, Key: inst, Name: "Institution " + inst, ParentKey: key, Core: "Symitar"}); err != nil {
			e.T.Fatal(err)
		}
	}
	r := &Reseller{Key: key, Email: "svc@" + key + ".test", Password: "password of " + key, Institutions: institutions}
	if _, err := e.App.Access.CreateUser(ctx, access.UserInput{OrgKey: key, Email: r.Email, Username: "svc-" + key,
		Password: r.Password, Roles: []string{verigate.RoleOwner}, ServiceAccount: true}); err != nil {
		e.T.Fatal(err)
	}
	tok, _, err := e.App.Access.IssueAccessToken(ctx, key)
	if err != nil {
		e.T.Fatal(err)
	}
	r.AccessToken = tok
	return r
}
