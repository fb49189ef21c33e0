// Package webtest drives Debian's chromium, headless, from Go tests with
// chromedp: a browser per test, phone and desktop viewports, full-page
// screenshots, an axe-core accessibility check, a horizontal-overflow
// check and a record of the page's console errors and CSP violations.
// Import it only from _test files.
//
// Without chromium (or, for Axe, node and npm) a test skips with a message
// that says what to install; with CI=true it fails instead, so CI cannot
// pass by skipping. .ci/run installs chromium.
package webtest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
)

// StartTimeout bounds the browser's start; WaitTimeout each wait helper.
var (
	StartTimeout = 30 * time.Second
	WaitTimeout  = 15 * time.Second
)

// Flags are the command-line flags New gives chromium on top of chromedp's
// defaults (which already include --disable-background-networking,
// --disable-dev-shm-usage, --no-first-run and --hide-scrollbars).
// --no-sandbox: the tests run as root in a container, where chromium's
// sandbox cannot start; the pages are our own.
func Flags(path string) []chromedp.ExecAllocatorOption {
	return append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.Flag("font-render-hinting", "none"),
		chromedp.WindowSize(desktopWidth, desktopHeight),
	)
}

// require skips the test, or fails it when CI=true, with why.
func require(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s; CI=true, where a browser test may not skip", msg)
	}
	t.Skip(msg + "; skipped")
}

// Chromium returns the path of the browser: $VERIGATE_CHROMIUM, or
// chromium (chromium-browser on Ubuntu) on PATH. It skips the test when
// there is none, or fails it under CI=true.
func Chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("VERIGATE_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("VERIGATE_CHROMIUM=%s: %v", p, err)
		}
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	require(t, "chromium is not on PATH (apt-get install chromium, or set VERIGATE_CHROMIUM to its path)")
	return ""
}

// New starts a headless chromium for t and returns its chromedp context,
// with one tab open that records console errors and CSP violations. The
// browser ends with the test; when the test failed, the page is
// screenshot first ("failed"). The context ends 20 s before the test's
// deadline, so a hung page fails the test instead of the whole binary.
func New(t testing.TB) context.Context {
	t.Helper()
	path := Chromium(t)
	if dir, err := testDir(t); err == nil {
		shots.Lock()
		claim(dir)
		shots.Unlock()
	}

	var out syncBuffer
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(Flags(path), chromedp.CombinedOutput(&out))...)
	rec := &recorder{}
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx,
		chromedp.WithErrorf(func(format string, args ...any) { rec.logf(format, args...) }),
		chromedp.WithListener(rec.listen))
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})

	// The first run binds the browser's life to its context, so it gets
	// one without a deadline; the start is bounded by a timer instead.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(browserCtx, rec.install()) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("starting %s: %v\n%s", path, err, out.String())
		}
	case <-time.After(StartTimeout):
		cancelBrowser()
		t.Fatalf("%s did not start in %s:\n%s", path, StartTimeout, out.String())
	}

	ctx := context.WithValue(browserCtx, recorderKey{}, rec)
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if deadline, ok := d.Deadline(); ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, deadline.Add(-20*time.Second))
			t.Cleanup(cancel)
		}
	}
	// Registered after the browser's cleanup, so it runs before it.
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		sctx, cancel := context.WithTimeout(browserCtx, 10*time.Second)
		defer cancel()
		if p, err := saveScreenshot(t, sctx, "failed"); err == nil {
			t.Logf("screenshot of the page at the failure: %s", p)
		}
		if errs := rec.protocolErrors(); errs != "" {
			t.Logf("chromedp errors:\n%s", errs)
		}
	})
	return ctx
}

type recorderKey struct{}

func recorderOf(t testing.TB, ctx context.Context) *recorder {
	t.Helper()
	rec, _ := ctx.Value(recorderKey{}).(*recorder)
	if rec == nil {
		t.Fatal("webtest: the context does not come from webtest.New")
	}
	return rec
}

// Viewports. The phone is 375 CSS px wide (the narrowest common phone),
// at device scale 2, with mobile emulation (the page's viewport meta tag
// applies) and touch.
const (
	PhoneWidth, PhoneHeight = 375, 812
	desktopWidth            = 1280
	desktopHeight           = 800
)

// Phone sets a 375×812 phone viewport: scale 2, mobile, touch, portrait.
func Phone(t testing.TB, ctx context.Context) {
	t.Helper()
	setViewport(t, ctx, PhoneWidth, PhoneHeight, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait)
}

// Desktop sets a 1280×800 desktop viewport at scale 1, without touch.
func Desktop(t testing.TB, ctx context.Context) {
	t.Helper()
	setViewport(t, ctx, desktopWidth, desktopHeight, chromedp.EmulateLandscape)
}

func setViewport(t testing.TB, ctx context.Context, w, h int64, opts ...chromedp.EmulateViewportOption) {
	t.Helper()
	rec := recorderOf(t, ctx)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(w, h, opts...)); err != nil {
		t.Fatalf("viewport %d×%d: %v", w, h, err)
	}
	rec.mu.Lock()
	rec.width = w
	rec.mu.Unlock()
}

// Navigate opens url, waits for its load event and returns the document's
// HTTP status.
func Navigate(t testing.TB, ctx context.Context, url string) int {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, WaitTimeout)
	defer cancel()
	resp, err := chromedp.Run(wctx, chromedp.NavigateResponse(url))
	if err != nil {
		t.Fatalf("navigating to %s: %v", url, err)
	}
	return int(resp.Status)
}

// WaitVisible waits until an element matching the CSS selector is visible.
func WaitVisible(t testing.TB, ctx context.Context, selector string) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, WaitTimeout)
	defer cancel()
	if err := chromedp.Do(wctx, chromedp.WaitVisible(chromedp.CSS(selector))); err != nil {
		t.Fatalf("waiting for %s to be visible (at %s): %v", selector, location(ctx), err)
	}
}

// WaitURL waits until the page's URL starts with prefix (after a redirect,
// a form's submission or a script's navigation) and its document has
// loaded; it returns the URL.
func WaitURL(t testing.TB, ctx context.Context, prefix string) string {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, WaitTimeout)
	defer cancel()
	for {
		loc, err := chromedp.Run(wctx, chromedp.Evaluate[string](`document.readyState === "complete" ? location.href : ""`))
		if err == nil && loc != "" && strings.HasPrefix(loc, prefix) {
			return loc
		}
		select {
		case <-wctx.Done():
			t.Fatalf("waiting for a URL starting with %s: the page is at %s", prefix, location(ctx))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Click clicks the first visible element matching the CSS selector.
func Click(t testing.TB, ctx context.Context, selector string) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, WaitTimeout)
	defer cancel()
	if err := chromedp.Do(wctx, chromedp.Click(chromedp.CSS(selector), chromedp.NodeVisible)); err != nil {
		t.Fatalf("clicking %s (at %s): %v", selector, location(ctx), err)
	}
}

// Type focuses the first visible field matching the CSS selector and types
// text into it, key by key, after what it already holds.
func Type(t testing.TB, ctx context.Context, selector, text string) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, WaitTimeout)
	defer cancel()
	if err := chromedp.Do(wctx, chromedp.SendKeys(chromedp.CSS(selector), text, chromedp.NodeVisible)); err != nil {
		t.Fatalf("typing into %s (at %s): %v", selector, location(ctx), err)
	}
}

// Text returns the visible text of the first element matching the CSS
// selector, once it is visible.
func Text(t testing.TB, ctx context.Context, selector string) string {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, WaitTimeout)
	defer cancel()
	s, err := chromedp.Run(wctx, chromedp.Text(chromedp.CSS(selector), chromedp.NodeVisible))
	if err != nil {
		t.Fatalf("reading the text of %s (at %s): %v", selector, location(ctx), err)
	}
	return s
}

// location is the page's URL for messages; "" when it cannot be read.
func location(ctx context.Context) string {
	lctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(lctx, chromedp.Location())
	return loc
}

// call sends one protocol command to the tab.
func call[P, R any](ctx context.Context, cmd cdp.Command[P, R], params P) error {
	_, err := chromedp.Call(ctx, cmd, params)
	return err
}

// syncBuffer collects the browser's output, written from chromedp's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
