package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestBenchEndToEnd builds the bench and runs it the way make bench does,
// briefly, on SQLite: every case must answer, bare must have run, and the
// JSON result must hold them all.
func TestBenchEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs two programs")
	}
	dir := t.TempDir()
	bench := filepath.Join(dir, "verigate-bench")
	if b, err := exec.Command("go", "build", "-o", bench, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	out := filepath.Join(dir, "result.json")
	cmd := exec.Command(bench, "-engines", "sqlite", "-duration", "200ms", "-rounds", "1", "-conns", "10",
		"-otp-accounts", "20", "-out", out)
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("verigate-bench: %v\n%s", err, b)
	}
	if !strings.Contains(string(b), "| case | engine | req/s |") {
		t.Errorf("no table in the output:\n%s", b)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var res result
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Engines) != 1 || res.Engines[0].Engine != "sqlite" {
		t.Fatalf("engines = %+v, want sqlite alone", res.Engines)
	}
	want := []string{caseBare, "status-read", "sso-read", "embedded-read", "csrf-step-read", "session-create", caseOTP}
	got := map[string]caseResult{}
	for _, c := range res.Engines[0].Cases {
		got[c.Name] = c
	}
	for _, name := range want {
		c, ok := got[name]
		switch {
		case !ok:
			t.Errorf("case %s missing from the result", name)
		case len(c.Rounds) != 1 || c.RPS <= 0 || c.Rounds[0].Requests == 0:
			t.Errorf("case %s: %d rounds, %.0f req/s", name, len(c.Rounds), c.RPS)
		case c.Non2xx != 0:
			t.Errorf("case %s: %d non-2xx answers: %v", name, c.Non2xx, c.Rounds[0].Statuses)
		case name != caseBare && c.Ratio <= 0:
			t.Errorf("case %s: ratio to bare %v", name, c.Ratio)
		}
	}
	if res.Machine.CPUs < 1 || res.Machine.GoVersion == "" {
		t.Errorf("machine not named: %+v", res.Machine)
	}
}

func TestFlagsRefuseUnknownCase(t *testing.T) {
	var stderr strings.Builder
	if _, err := parseFlags([]string{"-cases", "status-read,status"}, &stderr); err == nil || !strings.Contains(err.Error(), `unknown case "status"`) {
		t.Fatalf("parseFlags(-cases status) = %v, want the unknown case named", err)
	}
	st, err := parseFlags([]string{"-cases", "status-read, otp-submit"}, &stderr)
	if err != nil || !slices.Equal(st.Cases, []string{"status-read", caseOTP}) {
		t.Fatalf("parseFlags(-cases status-read, otp-submit) = %v, %v", st, err)
	}
}
