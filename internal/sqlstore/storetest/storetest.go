// Package storetest opens real stores for tests: SQLite always, and
// PostgreSQL when VERIGATE_TEST_POSTGRES_URL is set, each test in its own
// database file or schema.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verigate/verigate/internal/sqlstore"
)

// PostgresEnv names the PostgreSQL URL tests use when set.
const PostgresEnv = "VERIGATE_TEST_POSTGRES_URL"

// Each runs fn once per engine, as subtests named "sqlite" and
// "postgres"; the postgres one is skipped, saying why, when
// VERIGATE_TEST_POSTGRES_URL is not set.
func Each(t *testing.T, fn func(t *testing.T, db *sqlstore.DB)) {
	t.Helper()
	for _, engine := range []string{sqlstore.SQLite, sqlstore.Postgres} {
		t.Run(engine, func(t *testing.T) {
			fn(t, Open(t, engine))
		})
	}
}

// DSN returns a fresh database on engine for a test to hand to another
// process (a server under test): an SQLite file in a temporary directory,
// or a new PostgreSQL schema, removed when t ends. It skips the test on
// PostgreSQL when VERIGATE_TEST_POSTGRES_URL is not set.
func DSN(t testing.TB, engine string) string {
	t.Helper()
	switch engine {
	case sqlstore.SQLite:
		return filepath.Join(t.TempDir(), "verigate.db")
	case sqlstore.Postgres:
		base := os.Getenv(PostgresEnv)
		if base == "" {
			t.Skip(PostgresEnv + " not set: PostgreSQL not tested")
		}
		return schemaURL(t, base)
	}
	t.Fatalf("unknown engine %q", engine)
	return ""
}

// Open returns a migrated, empty store on engine, removed when t ends.
func Open(t testing.TB, engine string) *sqlstore.DB {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, DSN(t, engine), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

// schemaURL creates a fresh schema and returns base pointing into it.
func schemaURL(t testing.TB, base string) string {
	b := make([]byte, 6)
	rand.Read(b)
	schema := "vgtest_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		admin.Close()
		t.Fatalf("create schema on %s: %v", PostgresEnv, err)
	}
	t.Cleanup(func() {
		admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Dump returns every row of every table as text, for tests that look for
// what must never be stored.
func Dump(t testing.TB, db *sqlstore.DB) string {
	t.Helper()
	var pool *sql.DB
	for _, p := range db.Pools() {
		pool = p
	}
	q := `SELECT name FROM sqlite_master WHERE type = 'table'`
	if db.Dialect() == sqlstore.Postgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`
	}
	rows, err := pool.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		rows.Scan(&name)
		tables = append(tables, name)
	}
	rows.Close()
	if len(tables) == 0 {
		t.Fatal("no tables to dump")
	}
	var sb strings.Builder
	for _, table := range tables {
		rows, err := pool.Query(`SELECT * FROM ` + table)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&sb, "%s:", table)
			for _, v := range vals {
				if b, ok := v.([]byte); ok {
					fmt.Fprintf(&sb, " %s|%x", b, b)
				} else {
					fmt.Fprintf(&sb, " %v", v)
				}
			}
			sb.WriteByte('\n')
		}
		rows.Close()
	}
	return sb.String()
}
