package webtest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// AxePackage is the axe-core release the check runs, pinned like the
// Makefile pins Redocly; it is installed once from npm into the user cache
// directory.
const AxePackage = "axe-core@4.14.1"

// AxeTags are the rule sets run: WCAG 2.0 and 2.1, levels A and AA.
var AxeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa"}

// AxeViolation is one failed axe rule with the first few elements it
// failed on.
type AxeViolation struct {
	ID      string    `json:"id"`
	Impact  string    `json:"impact"` // minor, moderate, serious or critical
	Help    string    `json:"help"`
	HelpURL string    `json:"helpUrl"`
	Nodes   []AxeNode `json:"nodes"`
	Count   int       `json:"count"` // elements failing, Nodes holds the first 5
}

// AxeNode is an element a rule failed on.
type AxeNode struct {
	Target  string `json:"target"` // CSS selector
	HTML    string `json:"html"`
	Summary string `json:"summary"`
}

// AxeReport is the outcome of one axe.run.
type AxeReport struct {
	Version    string         `json:"version"`
	Passes     int            `json:"passes"`
	Incomplete int            `json:"incomplete"` // needed a human's eye
	Violations []AxeViolation `json:"violations"`
}

const axeRunJS = `axe.run(document, {runOnly: {type: "tag", values: %s}, resultTypes: ["violations"]}).then((r) => JSON.stringify({
  version: axe.version, passes: r.passes.length, incomplete: r.incomplete.length,
  violations: r.violations.map((v) => ({
    id: v.id, impact: v.impact || "", help: v.help, helpUrl: v.helpUrl, count: v.nodes.length,
    nodes: v.nodes.slice(0, 5).map((n) => ({
      target: n.target.map((s) => Array.isArray(s) ? s.join(" >>> ") : s).join(", "),
      html: n.html.length > 300 ? n.html.slice(0, 300) + "…" : n.html,
      summary: n.failureSummary || "",
    })),
  })),
}))`

// RunAxe injects axe-core into the tab's page (through the DevTools
// protocol, so the page's CSP does not stop it) and runs it.
func RunAxe(t testing.TB, ctx context.Context) AxeReport {
	t.Helper()
	src := axeSource(t)
	actx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	loaded, err := chromedp.Run(actx, chromedp.Evaluate[bool](`typeof axe !== "undefined"`))
	if err == nil && !loaded {
		err = chromedp.Do(actx, chromedp.Evaluate[chromedp.Void](src+"\n;void 0"))
	}
	if err != nil {
		t.Fatalf("injecting %s: %v", AxePackage, err)
	}
	tags := `["` + strings.Join(AxeTags, `","`) + `"]`
	out, err := chromedp.Run(actx, chromedp.Evaluate[string](fmt.Sprintf(axeRunJS, tags), chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe.run: %v", err)
	}
	var r AxeReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("axe.run's result: %v\n%.500s", err, out)
	}
	return r
}

// Axe fails the test on any serious or critical violation of WCAG 2.1 A
// or AA that axe-core finds on the current page, listing each with its
// rule, impact, help and the first elements; minor and moderate ones are
// logged.
func Axe(t testing.TB, ctx context.Context) AxeReport {
	t.Helper()
	r := RunAxe(t, ctx)
	var bad, other []string
	for _, v := range r.Violations {
		if v.Impact == "serious" || v.Impact == "critical" {
			bad = append(bad, v.String())
		} else {
			other = append(other, v.String())
		}
	}
	t.Logf("axe-core %s at %s: %d rules passed, %d incomplete, %d violations", r.Version, location(ctx), r.Passes, r.Incomplete, len(r.Violations))
	if len(other) > 0 {
		t.Logf("minor or moderate accessibility issues:\n%s", strings.Join(other, "\n"))
	}
	if len(bad) > 0 {
		t.Errorf("axe-core found %d serious or critical accessibility violation(s) at %s:\n%s", len(bad), location(ctx), strings.Join(bad, "\n"))
	}
	return r
}

func (v AxeViolation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "- %s [%s]: %s (%d element(s); %s)", v.ID, v.Impact, v.Help, v.Count, v.HelpURL)
	for _, n := range v.Nodes {
		fmt.Fprintf(&b, "\n    %s\n      %s", n.Target, n.HTML)
		if n.Summary != "" {
			fmt.Fprintf(&b, "\n      %s", strings.ReplaceAll(n.Summary, "\n", "\n      "))
		}
	}
	return b.String()
}

var axe struct {
	sync.Mutex
	src string
}

// axeSource returns axe.min.js, installing AxePackage with npm into the
// user cache directory the first time. Without node and npm the test skips
// (fails under CI=true).
func axeSource(t testing.TB) string {
	t.Helper()
	axe.Lock()
	defer axe.Unlock()
	if axe.src != "" {
		return axe.src
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	prefix := filepath.Join(cache, "verigate-npm-axe", AxePackage)
	file := filepath.Join(prefix, "node_modules", "axe-core", "axe.min.js")
	if _, err := os.Stat(file); err != nil {
		if _, err := exec.LookPath("npm"); err != nil {
			require(t, "npm is not on PATH: the accessibility check needs the npm package %s (apt-get install npm)", AxePackage)
		}
		installNPM(t, prefix, AxePackage)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%s: %v", AxePackage, err)
	}
	axe.src = string(b)
	return axe.src
}

// installNPM installs pkg under prefix beside it and renames it into
// place, so a run interrupted half-way (or another at the same time) never
// leaves a broken prefix behind.
func installNPM(t testing.TB, prefix, pkg string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(prefix), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(prefix), "install-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", "--prefix", tmp, pkg)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm install %s: %v\n%s", pkg, err, out)
	}
	if err := os.Rename(tmp, prefix); err != nil {
		if _, serr := os.Stat(filepath.Join(prefix, "node_modules")); serr != nil {
			t.Fatalf("installing into %s: %v", prefix, err)
		}
	}
}
