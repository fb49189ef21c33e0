package webhook

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// standardWebhooksPackage is the official Standard Webhooks JavaScript
// library, pinned like the Makefile pins Redocly.
const standardWebhooksPackage = "standardwebhooks@1.1.1"

// TestOfficialLibraryVerifies: messages signed by StandardHeaders verify
// with the official Standard Webhooks library — under the one key, under
// either key while a secret is rotated — and a tampered body does not.
// It needs node and npm (CI has them); the package is installed once into
// the user cache directory.
func TestOfficialLibraryVerifies(t *testing.T) {
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not on PATH: the independent check with the npm %s package is skipped", tool, standardWebhooksPackage)
		}
	}
	prefix := installStandardWebhooks(t)
	script, err := filepath.Abs(filepath.Join("testdata", "standardwebhooks-verify.cjs"))
	if err != nil {
		t.Fatal(err)
	}

	s1, s2, s3 := NewSecret(), NewSecret(), NewSecret()
	k1, _ := ParseSecret(s1)
	k2, _ := ParseSecret(s2)
	now := time.Now() // the library checks the timestamp against its own clock
	body := []byte(`{"type":"verification.completed","timestamp":"2026-03-01T12:00:00Z","data":{"id":"vs_01J","name":"Zoë 🦊","note":"a\"b\\c"}}`)
	tampered := []byte(`{"type":"verification.completed","timestamp":"2026-03-01T12:00:00Z","data":{"id":"vs_01K","name":"Zoë 🦊","note":"a\"b\\c"}}`)
	one := StandardHeaders("msg_01JABCDEF", now, body, k1)
	both := StandardHeaders("msg_01JABCDEG", now, body, k2, k1) // rotation: the new key's and the old key's

	for _, tc := range []struct {
		name    string
		secret  string
		headers map[string]string
		body    []byte
		exit    int
	}{
		{"one key", s1, one, body, 0},
		{"rotation, old secret", s1, both, body, 0},
		{"rotation, new secret", s2, both, body, 0},
		{"rotation, unrelated secret", s3, both, body, 1},
		{"tampered body", s1, one, tampered, 1},
		{"tampered body, rotation", s2, both, tampered, 1},
		{"wrong secret", s2, one, body, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, _ := json.Marshal(map[string]any{"secret": tc.secret, "headers": tc.headers, "body": base64.StdEncoding.EncodeToString(tc.body)})
			file := filepath.Join(t.TempDir(), "case.json")
			if err := os.WriteFile(file, c, 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			out, err := exec.CommandContext(ctx, "node", script, prefix, file).CombinedOutput()
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatalf("node: %v", err)
			}
			if code != tc.exit {
				t.Fatalf("standardwebhooks: exit %d, want %d (0 verified, 1 rejected, 2 broken): %s", code, tc.exit, out)
			}
		})
	}
}

// installStandardWebhooks installs the package once into the user cache
// directory (a temporary one if there is none) and returns the prefix.
func installStandardWebhooks(t *testing.T) string {
	t.Helper()
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = t.TempDir()
	}
	prefix := filepath.Join(cache, "verigate-npm-standardwebhooks", standardWebhooksPackage)
	if _, err := os.Stat(filepath.Join(prefix, "node_modules", "standardwebhooks", "package.json")); err == nil {
		return prefix
	}
	if err := os.MkdirAll(filepath.Dir(prefix), 0o755); err != nil {
		t.Fatal(err)
	}
	// Install beside it and rename, so a run interrupted half-way (or
	// another at the same time) never leaves a broken prefix behind.
	tmp, err := os.MkdirTemp(filepath.Dir(prefix), "install-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "install", "--no-audit", "--no-fund", "--prefix", tmp, standardWebhooksPackage)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm install %s: %v\n%s", standardWebhooksPackage, err, out)
	}
	if err := os.Rename(tmp, prefix); err != nil {
		if _, serr := os.Stat(filepath.Join(prefix, "node_modules", "standardwebhooks", "package.json")); serr != nil {
			t.Fatalf("installing into %s: %v", prefix, err)
		}
	}
	return prefix
}
