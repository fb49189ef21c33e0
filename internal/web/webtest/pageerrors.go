package webtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// PageError is something a page should never do: a console.error or
// console.assert, an uncaught exception, a Content-Security-Policy
// violation, or an error the browser logged (a subresource that failed to
// load, a blocked request).
type PageError struct {
	Kind string // "console", "exception", "csp" or "browser"
	Text string
	URL  string // where, when known
}

func (e PageError) String() string {
	if e.URL == "" {
		return e.Kind + ": " + e.Text
	}
	return e.Kind + ": " + e.Text + " (" + e.URL + ")"
}

// The CSP listener runs in an isolated world (the page's scripts cannot
// see or call its binding) and reports each securitypolicyviolation event,
// which the page dispatches on its document, through the binding.
const (
	worldName   = "verigate-webtest"
	bindingName = "__verigateWebtestCSP"
	cspListener = `document.addEventListener("securitypolicyviolation", (e) => {
  ` + bindingName + `(JSON.stringify({directive: e.effectiveDirective, blocked: e.blockedURI, source: e.sourceFile, line: e.lineNumber, sample: e.sample, disposition: e.disposition, url: document.URL}));
}, true);`
)

// recorder holds what the tab reported. listen runs in chromedp's read
// loop: it only appends under the lock.
type recorder struct {
	mu        sync.Mutex
	errs      []PageError
	documents map[network.RequestID]bool // main-document requests
	chromedp  []string
	width     int64 // the emulated viewport's width, 0 before Phone/Desktop
}

// install adds the CSP listener and its binding before the first page.
func (r *recorder) install() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if err := call(ctx, runtime.AddBinding, runtime.AddBindingParams{Name: bindingName, ExecutionContextName: worldName}); err != nil {
			return err
		}
		return call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspListener, WorldName: worldName})
	})
}

func (r *recorder) listen(ev any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		if ev.Type == network.ResourceTypeDocument {
			if r.documents == nil {
				r.documents = map[network.RequestID]bool{}
			}
			r.documents[ev.RequestID] = true
		}
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			r.errs = append(r.errs, PageError{Kind: "console", Text: consoleText(ev.Args), URL: stackURL(ev.StackTrace)})
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			text += " " + d.Exception.Description
		}
		r.errs = append(r.errs, PageError{Kind: "exception", Text: text, URL: d.URL})
	case *runtime.EventBindingCalled:
		if ev.Name != bindingName {
			return
		}
		var v struct {
			Directive, Blocked, Source, Sample, Disposition, URL string
			Line                                                 int
		}
		json.Unmarshal([]byte(ev.Payload), &v)
		text := fmt.Sprintf("%s blocked %q", v.Directive, v.Blocked)
		if v.Disposition == "report" {
			text = fmt.Sprintf("%s would block %q (report-only)", v.Directive, v.Blocked)
		}
		if v.Source != "" {
			text += fmt.Sprintf(" at %s:%d", v.Source, v.Line)
		}
		if v.Sample != "" {
			text += fmt.Sprintf(" sample %q", v.Sample)
		}
		r.errs = append(r.errs, PageError{Kind: "csp", Text: text, URL: v.URL})
	case *log.EventEntryAdded:
		e := ev.Entry
		if e.Level != log.EntryLevelError {
			return
		}
		// A document answered with an error status is the page under
		// test (an expired link's 410), not a failure of that page; a
		// missing favicon is nobody's concern.
		if e.Source == log.EntrySourceNetwork && (r.documents[e.NetworkRequestID] || isFavicon(e.URL)) {
			return
		}
		// The listener reports CSP violations, with the directive.
		if e.Source == log.EntrySourceSecurity && strings.Contains(e.Text, "Content Security Policy") {
			return
		}
		r.errs = append(r.errs, PageError{Kind: "browser", Text: string(e.Source) + ": " + e.Text, URL: e.URL})
	}
}

func isFavicon(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.Path == "/favicon.ico"
}

func consoleText(args []*runtime.RemoteObject) string {
	var parts []string
	for _, a := range args {
		switch {
		case a.Type == runtime.RemoteObjectTypeString:
			var s string
			json.Unmarshal(a.Value, &s)
			parts = append(parts, s)
		case len(a.Value) > 0:
			parts = append(parts, string(a.Value))
		case a.Description != "":
			parts = append(parts, a.Description)
		default:
			parts = append(parts, string(a.Type))
		}
	}
	return strings.Join(parts, " ")
}

func stackURL(st *runtime.StackTrace) string {
	if st == nil || len(st.CallFrames) == 0 {
		return ""
	}
	f := st.CallFrames[0]
	return fmt.Sprintf("%s:%d", f.URL, f.LineNumber+1)
}

func (r *recorder) logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.chromedp) < 20 {
		r.chromedp = append(r.chromedp, fmt.Sprintf(format, args...))
	}
}

func (r *recorder) protocolErrors() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.chromedp, "\n")
}

// PageErrors returns what the tab reported since New (or the last
// NoPageErrors), after letting events already queued in the page arrive.
func PageErrors(t testing.TB, ctx context.Context) []PageError {
	t.Helper()
	rec := recorderOf(t, ctx)
	// A violation's event is a task queued in the page; one turn of the
	// event loop, then one protocol round trip, delivers it.
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	chromedp.Do(sctx, chromedp.Evaluate[chromedp.Void](`new Promise((r) => setTimeout(r, 50))`, chromedp.EvalAwaitPromise))
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]PageError(nil), rec.errs...)
}

// NoPageErrors fails the test when the tab reported any PageError, listing
// them, then forgets them: each call covers what happened since the last.
func NoPageErrors(t testing.TB, ctx context.Context) {
	t.Helper()
	errs := PageErrors(t, ctx)
	rec := recorderOf(t, ctx)
	rec.mu.Lock()
	rec.errs = rec.errs[len(errs):]
	rec.mu.Unlock()
	if len(errs) == 0 {
		return
	}
	var b strings.Builder
	for _, e := range errs {
		b.WriteString("\n  " + e.String())
	}
	t.Errorf("the page reported %d error(s) (at %s):%s", len(errs), location(ctx), b.String())
}
