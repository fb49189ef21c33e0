package webtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ScreenshotDir is where the screenshots of this run go: $VERIGATE_SCREENSHOTS,
// or tmp/screenshots at the module's root (gitignored).
func ScreenshotDir() (string, error) {
	if d := os.Getenv("VERIGATE_SCREENSHOTS"); d != "" {
		return filepath.Abs(d)
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "tmp", "screenshots"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// shots numbers each test's screenshots; a test's directory is emptied of
// an earlier run's screenshots when New or its first screenshot in this
// run claims it.
var shots = struct {
	sync.Mutex
	n map[string]int
}{n: map[string]int{}}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// Screenshot saves a full-page PNG of the tab as
// <ScreenshotDir>/<TestName>/<NN>-<name>.png (a subtest's name makes
// nested directories), logs its path and returns it.
func Screenshot(t testing.TB, ctx context.Context, name string) string {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, WaitTimeout)
	defer cancel()
	p, err := saveScreenshot(t, sctx, name)
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	t.Logf("screenshot: %s", p)
	return p
}

// testDir is the test's screenshot directory.
func testDir(t testing.TB) (string, error) {
	root, err := ScreenshotDir()
	if err != nil {
		return "", err
	}
	parts := strings.Split(t.Name(), "/")
	for i, p := range parts {
		parts[i] = unsafeName.ReplaceAllString(p, "_")
	}
	return filepath.Join(append([]string{root}, parts...)...), nil
}

// claim empties dir of an earlier run's screenshots the first time this
// run uses it. The caller holds shots' lock.
func claim(dir string) {
	if _, seen := shots.n[dir]; !seen {
		os.RemoveAll(dir)
		shots.n[dir] = 0
	}
}

func saveScreenshot(t testing.TB, ctx context.Context, name string) (string, error) {
	dir, err := testDir(t)
	if err != nil {
		return "", err
	}

	// Wait for web fonts and two frames, so the picture is of the
	// settled page.
	chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.fonts.ready.then(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))))`, chromedp.EvalAwaitPromise))
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return "", err
	}

	shots.Lock()
	claim(dir)
	shots.n[dir]++
	n := shots.n[dir]
	shots.Unlock()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	p := filepath.Join(dir, fmt.Sprintf("%02d-%s.png", n, unsafeName.ReplaceAllString(name, "_")))
	return p, os.WriteFile(p, png, 0o644)
}

// Overflow is what NoHorizontalOverflow measured, in CSS pixels.
type Overflow struct {
	ScrollWidth int      `json:"scrollWidth"` // the page's
	ClientWidth int      `json:"clientWidth"` // the layout viewport's
	InnerWidth  int      `json:"innerWidth"`  // the visual viewport's, zoomed out to fit on a phone
	Offenders   []string `json:"offenders"`   // elements reaching past the limit
}

const overflowJS = `((limit) => {
  const se = document.scrollingElement, offenders = [];
  limit = limit || se.clientWidth;
  if (se.scrollWidth > limit) {
    for (const el of document.body.querySelectorAll("*")) {
      const r = el.getBoundingClientRect();
      if (r.right > limit + 0.5) {
        const d = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.classList.length ? "." + [...el.classList].join(".") : "");
        offenders.push(d + " (right edge at " + Math.round(r.right) + " px)");
        if (offenders.length === 8) break;
      }
    }
  }
  return {scrollWidth: se.scrollWidth, clientWidth: se.clientWidth, innerWidth: window.innerWidth, offenders};
})(%d)`

// HorizontalOverflow measures the page's width; limit is the width past
// which an element counts as sticking out (0: the layout viewport's).
func HorizontalOverflow(t testing.TB, ctx context.Context, limit int) Overflow {
	t.Helper()
	ectx, cancel := context.WithTimeout(ctx, WaitTimeout)
	defer cancel()
	o, err := chromedp.Run(ectx, chromedp.Evaluate[Overflow](fmt.Sprintf(overflowJS, limit)))
	if err != nil {
		t.Fatalf("measuring the page's width: %v", err)
	}
	return o
}

// NoHorizontalOverflow fails the test when the page is wider than the
// viewport, naming the elements that stick out. On a phone (mobile
// emulation) a too-wide page does not scroll: the browser zooms out until
// it fits, so innerWidth grows with it; the page's scrollWidth is then
// compared with the emulated width, and the layout viewport must be that
// width too, which a page without <meta name="viewport"
// content="width=device-width"> does not get (it is laid out 980 px wide).
func NoHorizontalOverflow(t testing.TB, ctx context.Context) {
	t.Helper()
	rec := recorderOf(t, ctx)
	rec.mu.Lock()
	want := int(rec.width)
	rec.mu.Unlock()
	o := HorizontalOverflow(t, ctx, want)
	// Layout after a viewport change settles within a frame or two.
	for deadline := time.Now().Add(2 * time.Second); want != 0 && o.ClientWidth != want && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		o = HorizontalOverflow(t, ctx, want)
	}
	limit := o.InnerWidth
	if want != 0 {
		limit = want
		if o.ClientWidth != want {
			t.Errorf("the page is laid out %d px wide, not at the viewport's %d px: does it have <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">? (at %s)", o.ClientWidth, want, location(ctx))
			return
		}
	}
	if o.ScrollWidth > limit {
		t.Errorf("the page scrolls sideways: %d px wide in a %d px viewport (at %s); sticking out:\n  %s",
			o.ScrollWidth, limit, location(ctx), strings.Join(o.Offenders, "\n  "))
	}
}
