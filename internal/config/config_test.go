package config_test

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/verigate/verigate/internal/config"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := config.Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8080" || c.DataDir != "./verigate-data" || c.DatabaseURL != filepath.Join("verigate-data", "verigate.db") ||
		c.PublicURL != "http://127.0.0.1:8080" || c.BodyLimit != 1<<20 || c.SQLiteSynchronous != "FULL" || c.Postgres() ||
		c.SessionMaxAge != 12*time.Hour {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestInvalid(t *testing.T) {
	for name, e := range map[string]map[string]string{
		"addr":           {"VERIGATE_ADDR": "nonsense"},
		"log format":     {"VERIGATE_LOG_FORMAT": "xml"},
		"log level":      {"VERIGATE_LOG_LEVEL": "loud"},
		"body limit":     {"VERIGATE_BODY_LIMIT": "12"},
		"synchronous":    {"VERIGATE_SQLITE_SYNCHRONOUS": "MAYBE"},
		"allow http":     {"VERIGATE_WEBHOOK_ALLOW_HTTP": "sometimes"},
		"allow private":  {"VERIGATE_WEBHOOK_ALLOW_PRIVATE": "2"},
		"overlap":        {"VERIGATE_WEBHOOK_ROTATION_OVERLAP": "-1s"},
		"retention":      {"VERIGATE_EVENT_RETENTION": "10m"},
		"max conns":      {"VERIGATE_DATABASE_MAX_CONNS": "0"},
		"max conns word": {"VERIGATE_DATABASE_MAX_CONNS": "many"},
		"shutdown":       {"VERIGATE_SHUTDOWN_TIMEOUT": "soon"},
		"database":       {"VERIGATE_DATABASE_URL": "mysql://x"},
		"secret":         {"VERIGATE_SECRET_KEY": "short"},
		"redis":          {"VERIGATE_REDIS_URL": "http://x"},
		"public url":     {"VERIGATE_PUBLIC_URL": "ftp://x"},
		"both file":      {"VERIGATE_SECRET_KEY": strings.Repeat("a", 32), "VERIGATE_SECRET_KEY_FILE": "/x"},
		"no file":        {"VERIGATE_SECRET_KEY_FILE": "/does/not/exist"},
		"session age":    {"VERIGATE_SESSION_MAX_AGE": "forever"},
		"session short":  {"VERIGATE_SESSION_MAX_AGE": "10m"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := config.Load(env(e))
			var ce *config.Error
			if !errors.As(err, &ce) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want one config.Error line", err)
			}
		})
	}
}

func TestSessionMaxAge(t *testing.T) {
	c, err := config.Load(env(map[string]string{"VERIGATE_SESSION_MAX_AGE": "2h30m"}))
	if err != nil || c.SessionMaxAge != 150*time.Minute {
		t.Fatalf("VERIGATE_SESSION_MAX_AGE=2h30m: %v %v", c, err)
	}
}

func TestCredentialCacheTTL(t *testing.T) {
	for in, want := range map[string]time.Duration{"": 30 * time.Second, "0": 0, "5s": 5 * time.Second, "5m": 5 * time.Minute} {
		c, err := config.Load(env(map[string]string{"VERIGATE_CREDENTIAL_CACHE_TTL": in}))
		if err != nil || c.CredentialCacheTTL != want {
			t.Errorf("VERIGATE_CREDENTIAL_CACHE_TTL=%q: %v %v, want %v", in, c, err, want)
		}
	}
	for _, in := range []string{"-1s", "6m", "soon"} {
		if _, err := config.Load(env(map[string]string{"VERIGATE_CREDENTIAL_CACHE_TTL": in})); err == nil {
			t.Errorf("VERIGATE_CREDENTIAL_CACHE_TTL=%q accepted", in)
		}
	}
}

func TestFileSecretsAndFlags(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "db")
	os.WriteFile(file, []byte("postgres://u:p@db/verigate\n"), 0o600)
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	load := config.Bind(fs)
	if err := fs.Parse([]string{"--addr", "127.0.0.1:9999"}); err != nil {
		t.Fatal(err)
	}
	c, err := load(env(map[string]string{"VERIGATE_ADDR": "127.0.0.1:1", "VERIGATE_DATABASE_URL_FILE": file}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9999" || c.DatabaseURL != "postgres://u:p@db/verigate" || !c.Postgres() {
		t.Fatalf("flag or file not honoured: %+v", c)
	}
}

func TestSecretKeyGenerated(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	c, _ := config.Load(env(map[string]string{"VERIGATE_DATA_DIR": dir}))
	var warn strings.Builder
	if err := c.Prepare(&warn); err != nil {
		t.Fatal(err)
	}
	if !c.SecretKeyGenerated || len(c.SecretKey) < 32 || !strings.Contains(warn.String(), "warning") {
		t.Fatalf("first run: generated=%v key=%q warn=%q", c.SecretKeyGenerated, c.SecretKey, warn.String())
	}
	fi, err := os.Stat(filepath.Join(dir, "secret.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret.key: %v %v", fi, err)
	}
	c2, _ := config.Load(env(map[string]string{"VERIGATE_DATA_DIR": dir}))
	if err := c2.Prepare(io.Discard); err != nil || c2.SecretKey != c.SecretKey || c2.SecretKeyGenerated {
		t.Fatalf("second run did not reuse the key: %v", err)
	}
}
