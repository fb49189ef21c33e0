package journey

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/api/httpapi"
	"github.com/verigate/verigate/internal/verification"
	"github.com/verigate/verigate/internal/web/ui"
)

//go:embed templates/*.html
var files embed.FS

var funcs = template.FuncMap{
	"date":  func(t time.Time) string { return t.UTC().Format("2 January 2006, 15:04 UTC") },
	"ended": func(s verigate.StepStatus) bool { return s.Ended() },
	"ok": func(s verigate.StepStatus) bool {
		return s == verigate.StepCompleted || s == verigate.StepVerified
	},
	"initial": func(s string) string {
		for _, r := range s {
			return strings.ToUpper(string(r))
		}
		return "?"
	},
	"add": func(a, b int) int { return a + b },
}

// pages are the templates, each the layout with its page's "main";
// parsed on first use, not at start-up (every run of the binary would
// pay for it).
var pages = sync.OnceValue(func() map[string]*template.Template {
	base := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(files, "templates/layout.html"))
	out := map[string]*template.Template{}
	for _, name := range []string{"consent", "sources", "start", "credentials", "code", "progress", "done", "reclaim", "sandbox", "problem"} {
		out[name] = template.Must(template.Must(base.Clone()).ParseFS(files, "templates/"+name+".html"))
	}
	return out
})

// view is what a page renders.
type view struct {
	Nonce, CSRF string
	Title       string
	Stage       int // the progress indicator's current stage (1-4), 0 for none
	J           *verification.Journey
	Step        *verification.StepPage
	Notice      string // a fixed message picked by the e query parameter
	Refresh     int    // seconds before the page reloads itself (no JavaScript)
	Live        string // the progress state the live stream compares with
	Query       string // the source search
	Chosen      map[int64]bool
	Problem     string // the problem page's kind
	Heading     string
	Message     string
	Action      string // the problem page's way on: a link
	ActionText  string
	Return      string // the done page's way back to the partner
	QR          template.HTML
	Deeplink    string
	Proof       string
	Attempts    int
	Descriptor  verigate.Descriptor
	Mode        verigate.Mode
}

// stages are the progress indicator's labels.
var stages = []string{"Consent", "Choose", "Connect", "Done"}

// Stages is for the template.
func (v *view) Stages() []string { return stages }

// render writes page name with status; the CSP names the page's nonce and
// the organization's frame ancestors and logo.
func render(w http.ResponseWriter, status int, name string, v *view) {
	if v.Nonce == "" {
		v.Nonce = ui.Nonce()
	}
	var settings verigate.JourneySettings
	if v.J != nil {
		settings = v.J.Settings
		v.Mode = v.J.Mode
	}
	var buf bytes.Buffer
	if err := pages()[name].ExecuteTemplate(&buf, "layout.html", struct {
		*view
		CSS template.CSS
	}{v, ui.CSS}); err != nil {
		// A template error is a bug; it must not show half a page.
		http.Error(w, "Internal server error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", csp(v.Nonce, settings))
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func (q *req) render(status int, name string, v *view) error {
	v.Nonce, v.CSRF = q.nonce, q.form
	render(q.w, status, name, v)
	return nil
}

// renderError is the surface's error page: what happened in plain words,
// and what to do.
func (h *Handler) renderError(w http.ResponseWriter, r *http.Request, err error) {
	if callbackPath(r) {
		writeCallbackError(w, err)
		return
	}
	code := verigate.ErrorCode(err)
	status := httpapi.Status(code)
	v := &view{Title: "Something went wrong", Problem: "error", Heading: "Something went wrong",
		Message: "Please try again in a moment.", Action: "", ActionText: ""}
	switch {
	case err == errNoCookie:
		v.Title, v.Heading = "Session ended", "Your secure session has ended"
		v.Message = "For your security, this page needs the verification link. Open the most recent link you were sent to pick up where you left off."
		v.Problem = "session"
	case err == errForm:
		v.Title, v.Heading = "Form expired", "This form has expired"
		v.Message = "Nothing was sent. Go back to the verification and try again."
		v.Problem = "csrf"
	case code == verigate.ERATELIMITED:
		v.Title, v.Heading = "Too many attempts", "Too many attempts"
		v.Message = verigate.ErrorMessage(err)
		httpapi.SetRetryAfter(w, err)
	case code == verigate.ENOTFOUND || code == verigate.EFORBIDDEN:
		// Another session's page answers as a missing one, same status.
		status = http.StatusNotFound
		v.Title, v.Heading = "Not found", "We could not find this page"
		v.Message = "The address may be mistyped, or belong to another verification. Open the link you were sent again."
	case code == verigate.ECONFLICT:
		v.Title, v.Heading = "Already moved on", "This step has already moved on"
		v.Message = "Your verification has moved past this point. Continue from where it is now."
	case code == verigate.EINVALID || code == verigate.ETOOLARGE:
		v.Title, v.Heading = "Check your entry", "We could not accept that"
		v.Message = verigate.ErrorMessage(err)
	case code == httpapi.EMETHOD:
		v.Title, v.Heading = "Not available", "This page is not available"
		v.Message = "Open the link you were sent again."
	}
	if status == http.StatusInternalServerError {
		v.Message = "Something went wrong on our side. Please try again in a moment."
	}
	if id, ok := r.Context().Value(sessionKey{}).(int64); ok && status != http.StatusInternalServerError {
		v.Action, v.ActionText = sessionPath(id, ""), "Continue verification"
	}
	render(w, status, "problem", v)
}
