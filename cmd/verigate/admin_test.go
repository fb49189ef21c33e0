package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verigate/verigate/internal/sqlstore"
	"github.com/verigate/verigate/internal/sqlstore/storetest"
)

// cli runs verigate in-process against dataDir.
type cli struct {
	t       *testing.T
	dataDir string
}

func (c cli) run(stdin string, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, getenv: func(k string) string {
		switch k {
		case "VERIGATE_DATA_DIR":
			return c.dataDir
		case "VERIGATE_SECRET_KEY":
			return strings.Repeat("s", 32)
		}
		return ""
	}}
	code = run(context.Background(), args, e)
	return code, out.String(), errb.String()
}

// ok runs a command that must succeed and decodes its --json output.
func (c cli) ok(v any, stdin string, args ...string) {
	c.t.Helper()
	code, out, errs := c.run(stdin, append(args, "--json")...)
	if code != 0 {
		c.t.Fatalf("verigate %s: exit %d: %s", strings.Join(args, " "), code, errs)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(out), v); err != nil {
			c.t.Fatalf("verigate %s --json printed %q: %v", strings.Join(args, " "), out, err)
		}
	}
}

func (c cli) dump() string {
	db, err := sqlstore.Open(context.Background(), filepath.Join(c.dataDir, "verigate.db"), sqlstore.Options{})
	if err != nil {
		c.t.Fatal(err)
	}
	defer db.Close()
	return storetest.Dump(c.t, db)
}

func TestAdminCLI(t *testing.T) {
	c := cli{t: t, dataDir: t.TempDir()}
	var org map[string]any
	c.ok(&org, "", "admin", "org", "create", "--kind", "reseller", "--key", "acme", "--name", "Acme Reseller")
	if org["key"] != "acme" || org["kind"] != "reseller" || org["status"] != "active" {
		t.Fatalf("org create: %v", org)
	}
	c.ok(nil, "", "admin", "org", "create", "--kind", "institution", "--key", "acme-cu", "--name", "Acme CU", "--parent", "acme", "--core", "Symitar")
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte("a long password\n"), 0o600)
	var user map[string]any
	c.ok(&user, "", "admin", "user", "create", "--org", "acme", "--email", "svc@acme.test", "--username", "svc", "--role", "owner", "--service-account", "--password-file", pwFile)
	if user["email"] != "svc@acme.test" || user["serviceAccount"] != true || user["passwordHash"] != nil {
		t.Fatalf("user create: %v", user)
	}
	c.ok(nil, "from stdin pw\n", "admin", "user", "create", "--org", "acme-cu", "--email", "op@acme.test", "--username", "jdoe", "--role", "operator")
	var tok map[string]any
	c.ok(&tok, "", "admin", "access-token", "issue", "--org", "acme")
	if !strings.HasPrefix(tok["accessToken"].(string), "vgat_") {
		t.Fatalf("access token: %v", tok)
	}
	var key map[string]any
	c.ok(&key, "", "admin", "api-key", "create", "--org", "acme", "--user", "svc@acme.test", "--scopes", "otp:write,status:read", "--mode", "test", "--rate-limit", "10s,5,30s")
	if !strings.HasPrefix(key["key"].(string), "vgk_") || key["mode"] != "test" {
		t.Fatalf("api key: %v", key)
	}
	var keys []map[string]any
	c.ok(&keys, "", "admin", "api-key", "list", "--org", "acme")
	if len(keys) != 1 || keys[0]["id"] != key["id"] || strings.Contains(mustJSON(keys), key["key"].(string)) {
		t.Fatalf("api-key list: %v", keys)
	}
	// --accounts takes organization keys as well as ids.
	var cu map[string]any
	c.ok(&cu, "", "admin", "org", "create", "--kind", "institution", "--key", "acme-bank", "--name", "Acme Bank", "--parent", "acme")
	var scoped map[string]any
	c.ok(&scoped, "", "admin", "api-key", "create", "--org", "acme", "--user", "svc@acme.test", "--scopes", "status:read", "--accounts", "acme-bank,"+cu["id"].(string))
	if got := mustJSON(scoped["accounts"]); got != mustJSON([]any{cu["id"], cu["id"]}) {
		t.Fatalf("api-key create --accounts acme-bank: accounts %s, want acme-bank's id %s", got, cu["id"])
	}
	c.ok(nil, "", "admin", "api-key", "revoke", scoped["id"].(string))
	c.ok(nil, "", "admin", "org", "disable", "acme-bank")
	var orgs []map[string]any
	c.ok(&orgs, "", "admin", "org", "list")
	if len(orgs) != 4 { // platform, acme, acme-cu, acme-bank
		t.Fatalf("org list: %v", orgs)
	}

	// Every refusal exits non-zero with one clear line and writes nothing.
	before := c.dump()
	for _, tc := range []struct {
		name, stdin, want string
		code              int
		args              []string
	}{
		{"duplicate org key", "", "already exists", 1, []string{"admin", "org", "create", "--kind", "reseller", "--key", "acme", "--name", "X"}},
		{"missing parent", "", "does not exist", 1, []string{"admin", "org", "create", "--kind", "institution", "--key", "x-cu", "--name", "X", "--parent", "nope"}},
		{"bad email", "a long password", "email", 1, []string{"admin", "user", "create", "--org", "acme", "--email", "bad@", "--username", "x", "--role", "viewer"}},
		{"short password", "short", "at least 8", 1, []string{"admin", "user", "create", "--org", "acme", "--email", "new@acme.test", "--username", "x", "--role", "viewer"}},
		{"no password", "", "no password", 2, []string{"admin", "user", "create", "--org", "acme", "--email", "new@acme.test", "--username", "x", "--role", "viewer"}},
		{"unknown role", "a long password", "unknown role", 1, []string{"admin", "user", "create", "--org", "acme", "--email", "new@acme.test", "--username", "x", "--role", "root"}},
		{"token for institution", "", "resellers", 1, []string{"admin", "access-token", "issue", "--org", "acme-cu"}},
		{"scope beyond user", "", "does not hold", 1, []string{"admin", "api-key", "create", "--org", "acme-cu", "--user", "op@acme.test", "--scopes", "users:delete"}},
		{"missing flag", "", "--key is required", 2, []string{"admin", "org", "create", "--kind", "reseller", "--name", "X"}},
		{"unknown command", "", "unknown command", 2, []string{"admin", "org", "explode"}},
		{"accounts: no such organization", "", "neither an organization key nor an id", 1, []string{"admin", "api-key", "create", "--org", "acme", "--user", "svc@acme.test", "--scopes", "status:read", "--accounts", "nope"}},
		{"revoke unknown", "", "not found", 1, []string{"admin", "api-key", "revoke", "deadbeef"}},
		{"bad config", "", "VERIGATE_LOG_LEVEL", 2, []string{"admin", "org", "list", "--log-level", "loud"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := c.run(tc.stdin, append(tc.args, "--json")...)
			if code != tc.code || !strings.Contains(errs, tc.want) || strings.Count(strings.TrimSpace(errs), "\n") > 0 || out != "" {
				t.Fatalf("exit %d (want %d), stdout %q, stderr %q (want one line with %q)", code, tc.code, out, errs, tc.want)
			}
		})
	}
	if after := c.dump(); after != before {
		t.Fatal("a refused command changed the database")
	}

	c.ok(nil, "", "admin", "api-key", "revoke", key["id"].(string))
	c.ok(nil, "", "admin", "org", "disable", "acme-cu")
	var audit []map[string]any
	c.ok(&audit, "", "admin", "audit", "list", "--limit", "100")
	actions := mustJSON(audit)
	for _, want := range []string{"organization.create", "user.create", "access_token.issue", "api_key.create", "api_key.revoke", "organization.disable"} {
		if !strings.Contains(actions, want) {
			t.Errorf("audit log lacks %s", want)
		}
	}
	var st []map[string]any
	c.ok(&st, "", "migrate", "status")
	if len(st) < 7 || st[0]["appliedAt"] == nil || st[6]["name"] != "00007_refold (Go)" {
		t.Fatalf("migrate status: %v", st)
	}
	if code, out, _ := c.run("", "version"); code != 0 || !strings.HasPrefix(out, "verigate ") {
		t.Fatalf("version: %d %q", code, out)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
