package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/app"
	"github.com/verigate/verigate/internal/config"
	"github.com/verigate/verigate/internal/sqlstore"
	"github.com/verigate/verigate/internal/sqlstore/storetest"
)

// TestRevocationAcrossProcesses: two server processes on one database,
// both with a credential warm in their caches. A revocation (and a user
// disable) made through one is honoured by the other within the bound
// the README states: 1 second, whatever the cache TTL.
func TestRevocationAcrossProcesses(t *testing.T) {
	for _, engine := range []string{sqlstore.SQLite, sqlstore.Postgres} {
		t.Run(engine, func(t *testing.T) {
			dsn := storetest.DSN(t, engine)
			env := []string{"VERIGATE_DATABASE_URL=" + dsn, "VERIGATE_CREDENTIAL_CACHE_TTL=5m"}
			one := startChild(t, t.TempDir(), env, "serve")
			baseOne := one.base(t)
			two := startChild(t, t.TempDir(), env, "serve")
			baseTwo := two.base(t)
			seedOwner(t, dsn)

			var signIn struct{ Token string }
			do(t, "POST", baseOne+"/token", "", `{"email":"owner@acme.test","password":"owner password"}`, 200, &signIn)
			var minted struct{ ID, Token string }
			do(t, "POST", baseOne+"/application/reports/token", signIn.Token, `{"permissions":["users.read"]}`, 201, &minted)
			for _, base := range []string{baseOne, baseTwo} { // warm both caches
				for range 3 {
					do(t, "GET", base+"/users", minted.Token, "", 200, nil)
					do(t, "GET", base+"/users", signIn.Token, "", 200, nil)
				}
			}

			do(t, "DELETE", baseOne+"/application/reports/token/"+minted.ID, signIn.Token, "", 204, nil)
			do(t, "GET", baseOne+"/users", minted.Token, "", 401, nil) // at once where it was revoked
			refusedWithin(t, baseTwo, minted.Token, time.Second)

			// A user (a viewer) disabled through the second server: the first
			// honours it too.
			var users struct {
				Data []struct{ ID, Email string }
			}
			do(t, "GET", baseTwo+"/users", signIn.Token, "", 200, &users)
			var dev string
			for _, u := range users.Data {
				if u.Email == "dev@acme.test" {
					dev = u.ID
				}
			}
			var devIn struct{ Token string }
			do(t, "POST", baseOne+"/token", "", `{"email":"dev@acme.test","password":"developer password"}`, 200, &devIn)
			do(t, "GET", baseOne+"/users", devIn.Token, "", 200, nil)
			do(t, "POST", baseTwo+"/users/"+dev+"/disable", signIn.Token, "", 200, nil)
			refusedWithin(t, baseOne, devIn.Token, time.Second)
		})
	}
}

// refusedWithin checks token is refused by base within bound (plus a
// little for the request itself), polling.
func refusedWithin(t *testing.T, base, token string, bound time.Duration) {
	t.Helper()
	start := time.Now()
	for {
		status := do(t, "GET", base+"/users", token, "", 0, nil)
		if status == 401 {
			t.Logf("refused by the other server after %v", time.Since(start).Round(time.Millisecond))
			return
		}
		if time.Since(start) > bound+250*time.Millisecond {
			t.Fatalf("still %d on the other server %v after the change (bound %v)", status, time.Since(start), bound)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// seedOwner creates reseller acme with an owner and a developer, through
// a third app on the same database (as the admin CLI would).
func seedOwner(t *testing.T, dsn string) {
	t.Helper()
	a := openApp(t, dsn)
	defer a.Close()
	sys := verigate.WithPrincipal(context.Background(), verigate.System)
	if _, err := a.Access.CreateOrganization(sys, access.OrgInput{Kind: verigate.OrgReseller, Key: "acme", Name: "Acme"}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct{ email, name, password, role string }{
		{"owner@acme.test", "owner", "owner password", verigate.RoleOwner},
		{"dev@acme.test", "dev", "developer password", verigate.RoleViewer},
	} {
		if _, err := a.Access.CreateUser(sys, access.UserInput{OrgKey: "acme", Email: u.email, Username: u.name,
			Password: u.password, Roles: []string{u.role}}); err != nil {
			t.Fatal(err)
		}
	}
}

// do sends a request with an Embedded API token; want 0 accepts any status.
func do(t *testing.T, method, url, token, body string, want int, into any) int {
	t.Helper()
	req, _ := http.NewRequest(method, url, bytes.NewBufferString(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if want != 0 && resp.StatusCode != want {
		t.Fatalf("%s %s = %d %s, want %d", method, url, resp.StatusCode, b, want)
	}
	if into != nil {
		if err := json.Unmarshal(b, into); err != nil {
			t.Fatalf("%s %s: %v", method, url, err)
		}
	}
	return resp.StatusCode
}

// openApp opens an app on the database at dsn, as the admin CLI would
// beside running servers; the caller closes it.
func openApp(t *testing.T, dsn string) *app.App {
	t.Helper()
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"VERIGATE_DATABASE_URL": dsn, "VERIGATE_SECRET_KEY": strings.Repeat("s", 32), "VERIGATE_DATA_DIR": t.TempDir()}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return a
}
