package webtest

import (
	"context"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
)

const nonce = "n0nce"

// pages are served under a strict CSP: inline script needs the nonce.
var pages = map[string]string{
	"/good": `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Good</title></head>
<body><main><h1>Good</h1><p>Readable text.</p><p id="late" hidden>Arrived.</p>
<form action="/good"><label for="q">Search</label> <input id="q" name="q"> <button>Go</button></form>
<script nonce="` + nonce + `">setTimeout(() => { document.getElementById("late").hidden = false; }, 200);</script></main></body></html>`,

	// Every check's failure: a wide element, an image without alt text,
	// low contrast, a blocked inline script, a blocked image, a
	// console.error and an uncaught exception.
	"/bad": `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Bad</title></head>
<body><main><h1>Bad</h1><div id="wide" style="width:600px">wide</div>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<p style="color:#eee;background:#fff">faint</p>
<script>document.title = "inline ran";</script>
<img alt="x" src="https://example.invalid/x.png">
<script nonce="` + nonce + `">console.error("boom", 42); setTimeout(() => { throw new Error("kaput"); }, 0);</script>
</main></body></html>`,

	"/noviewport": `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>No viewport</title></head>
<body><main><h1>No viewport</h1></main></body></html>`,
}

func server(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/go" {
			http.Redirect(w, r, "/good?via=go", http.StatusSeeOther)
			return
		}
		page, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Security-Policy", "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'nonce-"+nonce+"'")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if r.URL.Query().Has("gone") {
			w.WriteHeader(http.StatusGone)
		}
		fmt.Fprint(w, page)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// recordingT records the failures of the non-fatal checks, so a test can
// show that they fail.
type recordingT struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recordingT) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recordingT) failures() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.errs, "\n")
}

func TestGoodPage(t *testing.T) {
	ctx := New(t)
	srv := server(t)
	for _, vp := range []struct {
		name  string
		set   func(testing.TB, context.Context)
		width int
	}{{"phone", Phone, PhoneWidth * 2}, {"desktop", Desktop, desktopWidth}} {
		t.Run(vp.name, func(t *testing.T) {
			vp.set(t, ctx)
			if code := Navigate(t, ctx, srv.URL+"/go"); code != 200 {
				t.Fatalf("status %d", code)
			}
			if u := WaitURL(t, ctx, srv.URL+"/good"); !strings.HasSuffix(u, "?via=go") {
				t.Fatalf("URL %s", u)
			}
			WaitVisible(t, ctx, "#late")
			if got := Text(t, ctx, "#late"); got != "Arrived." {
				t.Errorf("#late says %q", got)
			}
			p := Screenshot(t, ctx, "good page")
			if !strings.HasSuffix(p, "/"+vp.name+"/01-good_page.png") {
				t.Errorf("screenshot path %s", p)
			}
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(f)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			// Device pixels: the phone's are twice its CSS pixels.
			if w := img.Bounds().Dx(); w != vp.width {
				t.Errorf("screenshot %d px wide, want %d", w, vp.width)
			}
			if r := Axe(t, ctx); r.Version == "" || r.Passes == 0 {
				t.Errorf("axe ran no rule: %+v", r)
			}
			NoHorizontalOverflow(t, ctx)
			NoPageErrors(t, ctx)

			Type(t, ctx, "#q", "a b")
			Click(t, ctx, "form button")
			WaitURL(t, ctx, srv.URL+"/good?q=a+b")
		})
	}
}

// TestChecksFail: each check fails on a page that breaks it, and says why.
func TestChecksFail(t *testing.T) {
	ctx := New(t)
	srv := server(t)
	Phone(t, ctx)
	Navigate(t, ctx, srv.URL+"/bad")

	rt := &recordingT{TB: t}
	Axe(rt, ctx)
	NoHorizontalOverflow(rt, ctx)
	NoPageErrors(rt, ctx)
	got := rt.failures()
	for _, want := range []string{
		"image-alt [critical]", `<img src="data:image/gif`, "color-contrast [serious]",
		"scrolls sideways: 6", "div#wide (right edge at 6",
		"csp: script-src-elem blocked \"inline\"", `csp: img-src blocked "https://example.invalid/x.png"`,
		"console: boom 42", "exception: Uncaught Error: kaput",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the failures lack %q:\n%s", want, got)
		}
	}

	// NoPageErrors forgets what it reported; a document's own error
	// status is not a page error.
	rt = &recordingT{TB: t}
	Navigate(t, ctx, srv.URL+"/good?gone")
	NoPageErrors(rt, ctx)
	if got := rt.failures(); got != "" {
		t.Errorf("after NoPageErrors, on a 410 page: %s", got)
	}

	rt = &recordingT{TB: t}
	Navigate(t, ctx, srv.URL+"/noviewport")
	NoHorizontalOverflow(rt, ctx)
	if got := rt.failures(); !strings.Contains(got, "laid out 980 px wide") {
		t.Errorf("a page without a viewport meta tag passed at 375 px: %q", got)
	}
}
