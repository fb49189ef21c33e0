package main

import (
	"context"
	"testing"

	"github.com/verigate/verigate/internal/web/webtest"
)

// TestBrowserDocs opens the real binary's /docs page in headless chromium
// on a 375 px phone and on a desktop: it renders under its strict CSP
// without an error, passes axe-core's WCAG 2.1 A/AA rules without a
// serious or critical violation and does not scroll sideways. The
// screenshots go to tmp/screenshots/TestBrowserDocs/.
func TestBrowserDocs(t *testing.T) {
	ctx := webtest.New(t) // first: skips before the server starts when there is no chromium
	base := startChild(t, t.TempDir(), nil, "serve").base(t)

	for _, vp := range []struct {
		name string
		set  func(testing.TB, context.Context)
	}{{"phone", webtest.Phone}, {"desktop", webtest.Desktop}} {
		t.Run(vp.name, func(t *testing.T) {
			vp.set(t, ctx)
			if code := webtest.Navigate(t, ctx, base+"/docs"); code != 200 {
				t.Fatalf("/docs = %d", code)
			}
			webtest.WaitVisible(t, ctx, "main h2")
			webtest.Screenshot(t, ctx, "docs")
			webtest.Axe(t, ctx)
			webtest.NoHorizontalOverflow(t, ctx)
			webtest.NoPageErrors(t, ctx)
		})
	}
}
