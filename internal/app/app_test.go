package app_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/app"
	"github.com/verigate/verigate/internal/authz"
	"github.com/verigate/verigate/internal/config"
	"github.com/verigate/verigate/internal/openapi/openapitest"
)

func openApp(t *testing.T) *app.App {
	dir := t.TempDir()
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"VERIGATE_DATA_DIR": dir, "VERIGATE_SECRET_KEY": strings.Repeat("k", 32)}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Prepare(io.Discard); err != nil {
		t.Fatal(err)
	}
	a, err := app.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if filepath.Dir(cfg.DatabaseURL) != dir {
		t.Fatalf("database %s is not in the data dir", cfg.DatabaseURL)
	}
	return a
}

// TestRoutesDocumented walks every route the server registers and every
// operation the OpenAPI document declares: each must have the other.
func TestRoutesDocumented(t *testing.T) {
	a := openApp(t)
	doc := openapitest.Doc(t)
	var documented []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	var served []string
	for _, r := range a.Server.Routes() {
		served = append(served, strings.ReplaceAll(r, "{$}", "")) // "GET /dashboard/{$}" is the path /dashboard/
	}
	if len(served) < 5 {
		t.Fatalf("only %d routes registered", len(served))
	}
	for _, r := range served {
		if !slices.Contains(documented, r) {
			t.Errorf("route %q is served but not in the OpenAPI document", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(served, d) {
			t.Errorf("operation %q is documented but not served", d)
		}
	}
}

func TestReady(t *testing.T) {
	a := openApp(t)
	v := openapitest.New(t)
	rec := v.Serve(t, a.Server, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"database":"sqlite"`) {
		t.Fatalf("/readyz = %d %s", rec.Code, rec.Body)
	}
	a.DB.Close()
	rec = v.Serve(t, a.Server, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != 503 {
		t.Fatalf("/readyz with the database closed = %d %s", rec.Code, rec.Body)
	}
}

// TestPermissionTable: every registered route has a rule in the one
// permission table, and every rule a route.
func TestPermissionTable(t *testing.T) {
	a := openApp(t)
	served := a.Server.Routes()
	for _, r := range served {
		rule, ok := authz.Routes[r]
		if !ok {
			t.Errorf("route %q has no rule in authz.Routes", r)
			continue
		}
		if rule.Permission != "" && !verigate.IsPermission(rule.Permission) {
			t.Errorf("route %q needs %q, which is not in the catalogue", r, rule.Permission)
		}
		if rule.Permission == "" && rule.Guard == "" {
			t.Errorf("route %q has an empty rule", r)
		}
	}
	for r := range authz.Routes {
		if !slices.Contains(served, r) {
			t.Errorf("rule for %q, which is not served", r)
		}
	}
}
