package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHelpEverywhere: -h, --help and help print the usage to stdout and
// exit 0 at every level of the CLI, and touch nothing.
func TestHelpEverywhere(t *testing.T) {
	c := cli{t: t, dataDir: filepath.Join(t.TempDir(), "data")}
	for _, level := range [][]string{
		{}, {"serve"}, {"demo"}, {"migrate"}, {"migrate", "status"}, {"openapi"}, {"version"},
		{"admin"}, {"admin", "org"}, {"admin", "sources"}, {"admin", "org", "create"}, {"admin", "api-key", "create"},
		{"admin", "sources", "disable"}, {"admin", "proof", "sandbox"}, {"webhook"}, {"webhook", "listen"},
	} {
		for _, h := range []string{"-h", "--help", "help"} {
			args := append(append([]string{}, level...), h)
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				code, out, errs := c.run("", args...)
				if code != 0 || errs != "" || !strings.Contains(out, "Usage") {
					t.Fatalf("exit %d, stderr %q, stdout %q; want exit 0 and the usage on stdout", code, errs, out)
				}
			})
		}
	}
	// A positional argument may be named help, so there only the flags ask.
	for _, args := range [][]string{{"admin", "org", "disable", "-h"}, {"admin", "org", "disable", "acme", "--help"}, {"help", "admin", "org"}} {
		if code, out, errs := c.run("", args...); code != 0 || errs != "" || !strings.Contains(out, "Usage") {
			t.Fatalf("%v: exit %d, stderr %q, stdout %q", args, code, errs, out)
		}
	}
	if _, err := os.Stat(c.dataDir); !os.IsNotExist(err) {
		t.Fatalf("asking for help created the data directory (%v)", err)
	}
}

// TestUsageErrors: wrong usage exits 2 with one line on stderr, the
// "verigate:" prefix once, and nothing on stdout.
func TestUsageErrors(t *testing.T) {
	c := cli{t: t, dataDir: filepath.Join(t.TempDir(), "data")}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "name a command"},
		{[]string{"explode"}, `unknown command "explode"`},
		{[]string{"serve", "--bogus"}, "serve: flag provided but not defined: -bogus"},
		{[]string{"serve", "extra"}, `serve: unexpected argument "extra"`},
		{[]string{"demo", "--bogus"}, "demo: flag provided but not defined"},
		{[]string{"migrate", "--bogus"}, "migrate: flag provided but not defined"},
		{[]string{"openapi", "extra"}, `openapi: unexpected argument "extra"`},
		{[]string{"version", "extra"}, `version: unexpected argument "extra"`},
		{[]string{"admin"}, "admin: name a command"},
		{[]string{"admin", "org"}, "admin org: name a command"},
		{[]string{"admin", "nope"}, `unknown command "nope"`},
		{[]string{"admin", "org", "create", "--bogus"}, "admin org create: flag provided but not defined: -bogus"},
		{[]string{"admin", "org", "list", "--limit"}, "admin org list: flag provided but not defined: -limit"},
		{[]string{"webhook"}, "webhook: name a command (listen)"},
		{[]string{"webhook", "send"}, `webhook: unknown command "send"`},
		{[]string{"webhook", "listen", "--bogus"}, "webhook listen: flag provided but not defined: -bogus"},
		{[]string{"webhook", "listen", "extra"}, `webhook listen: unexpected argument "extra"`},
		{[]string{"webhook", "listen", "--data-dir", "x"}, "webhook listen: flag provided but not defined: -data-dir"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out, errs := c.run("", tc.args...)
			if code != 2 || out != "" || strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "verigate: ") ||
				strings.Count(errs, "verigate:") != 1 || strings.Contains(errs, "verigate: verigate") || !strings.Contains(errs, tc.want) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit 2 and one line with %q", code, out, errs, tc.want)
			}
		})
	}
}

// TestServePortInUse: serve on a port in use fails before it writes
// anything (no data directory, no secret.key).
func TestServePortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dir := filepath.Join(t.TempDir(), "data")
	for _, cmd := range []string{"serve", "demo"} {
		var out, errb bytes.Buffer
		code := run(context.Background(), []string{cmd}, &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb,
			getenv: func(k string) string {
				switch k {
				case "VERIGATE_ADDR":
					return ln.Addr().String()
				case "VERIGATE_DATA_DIR":
					return dir
				}
				return ""
			}})
		if code != 1 || !strings.Contains(errb.String(), "address already in use") {
			t.Fatalf("%s: exit %d, stderr %q; want exit 1 naming the port in use", cmd, code, errb.String())
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Fatalf("%s on a port in use wrote %s (%v)", cmd, dir, err)
		}
	}
}
