package app_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/verigate/verigate/"

// parseDir parses every Go file under dir, tests included.
func parseDir(t *testing.T, dir string) map[string]*ast.File {
	t.Helper()
	files := map[string]*ast.File{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files[path] = f
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestLayers keeps the imports pointing one way: a surface (tests too)
// never reaches the store or the server around the services, and a
// service never knows HTTP or a surface.
func TestLayers(t *testing.T) {
	for _, rule := range []struct {
		dir       string
		forbidden []string
	}{
		{"../api", []string{"internal/server", "internal/sqlstore", "internal/sqlstore/storetest"}},
		{"../access", []string{"net/http", "internal/api", "internal/server", "internal/sqlstore"}},
		{"../verification", []string{"net/http", "internal/api", "internal/server", "internal/sqlstore"}},
		{"../connect", []string{"net/http", "internal/api", "internal/server", "internal/sqlstore"}},
		{"../calls", []string{"net/http", "internal/api", "internal/server", "internal/sqlstore"}},
		{"../idempotency", []string{"net/http", "internal/api", "internal/server"}},
		{"../delivery", []string{"net/http", "internal/api", "internal/server", "internal/sqlstore"}},
	} {
		for path, f := range parseDir(t, rule.dir) {
			if strings.HasSuffix(path, "_test.go") && rule.dir != "../api" {
				continue // service tests may open a store
			}
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				for _, bad := range rule.forbidden {
					if p == bad || p == module+bad || strings.HasPrefix(p, module+bad+"/") {
						t.Errorf("%s imports %s", path, p)
					}
				}
			}
		}
	}
}

// TestNoEscalation: no exported function or method of a service acts as
// the system principal for its caller. Only unexported helpers of the
// background work (expiry, connector steps' ends) may.
func TestNoEscalation(t *testing.T) {
	for _, dir := range []string{"../access", "../verification", "../connect", "../calls", "../idempotency", "../delivery"} {
		for path, f := range parseDir(t, dir) {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			for _, decl := range f.Decls {
				fn, ok := decl.(*ast.FuncDecl)
				if !ok || !fn.Name.IsExported() || fn.Body == nil {
					continue
				}
				ast.Inspect(fn.Body, func(n ast.Node) bool {
					sel, ok := n.(*ast.SelectorExpr)
					if ok && sel.Sel.Name == "System" {
						if x, ok := sel.X.(*ast.Ident); ok && x.Name == "verigate" {
							t.Errorf("%s: exported %s uses verigate.System", path, fn.Name.Name)
						}
					}
					return true
				})
			}
		}
	}
}
