package dashboard

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/api/httpapi"
	"github.com/verigate/verigate/internal/authz"
	"github.com/verigate/verigate/internal/web/ui"
)

//go:embed templates/*.html templates/*.css
var files embed.FS

// css is the dashboard's stylesheet: the journey's base, then its own.
var css = func() template.CSS {
	b, err := files.ReadFile("templates/dashboard.css")
	if err != nil {
		panic(err)
	}
	return ui.CSS + "\n" + template.CSS(b)
}()

var funcs = template.FuncMap{
	"date": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2 Jan 2006 15:04 UTC")
	},
	"datep": func(t *time.Time) string {
		if t == nil || t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2 Jan 2006 15:04 UTC")
	},
	// iso is a time as a datetime attribute.
	"iso":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"join": strings.Join,
	"add":  func(a, b int) int { return a + b },
	// pill is the status badge class of a status word.
	"pill": pillClass,
	"initial": func(s string) string {
		for _, r := range s {
			return strings.ToUpper(string(r))
		}
		return "?"
	},
}

// pillClass colours a status: green done, red failed, blue in progress.
func pillClass(status any) string {
	s := strings.ToLower(fmt.Sprint(status))
	switch {
	case strings.Contains(s, "complete"), strings.Contains(s, "verified"), strings.Contains(s, "approved"),
		strings.Contains(s, "enrolled"), strings.Contains(s, "active"), strings.Contains(s, "success"), s == "connected", s == "delivered", s == "ok":
		return "pill ok"
	case strings.Contains(s, "fail"), strings.Contains(s, "reject"), strings.Contains(s, "cancel"), strings.Contains(s, "expire"),
		strings.Contains(s, "disabled"), strings.Contains(s, "revoked"), strings.Contains(s, "error"), strings.Contains(s, "dead"):
		return "pill bad"
	case s == "":
		return "pill"
	}
	return "pill busy"
}

// pages are the templates: each file of templates/ but the layout and
// the partials (_*.html, shared by pages) is a page, parsed with them and
// defining "main". Parsed on first use, not at start-up: every run of
// the binary (the CLI too) would pay for it.
var pages = sync.OnceValue(func() map[string]*template.Template {
	base := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/_*.html"))
	names, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" || strings.HasPrefix(name, "_") {
			continue
		}
		out[name] = template.Must(template.Must(base.Clone()).ParseFS(files, n))
	}
	return out
})

// page is what the layout renders; Data is the page's own.
type page struct {
	Title   string
	Nonce   string
	CSRF    string
	Active  string // the navigation entry's path
	Notice  string // a one-time notice (flash)
	Nav     []navLink
	User    string
	Via     string
	Mode    verigate.Mode
	Org     *verigate.Organization
	Orgs    []*verigate.Organization
	Data    any
	p       *verigate.Principal
	problem bool
}

// Can tells whether the signed-in person may use the route pattern (as
// authz.Routes names it): a button for an action they may not take is
// not shown.
func (v *page) Can(pattern string) bool {
	return v.p != nil && authz.Check(pattern, v.p) == nil
}

// navLink is an entry of the navigation, shown to whoever its page's
// rule lets in.
type navLink struct {
	Label, Path, Pattern string
}

// nav is the navigation, in order.
var nav = []navLink{
	{"Overview", "/dashboard/", "GET /dashboard/{$}"},
	{"Verifications", "/dashboard/verifications", "GET /dashboard/verifications"},
	{"Review queue", "/dashboard/review", "GET /dashboard/review"},
	{"Calls", "/dashboard/calls", "GET /dashboard/calls"},
	{"Connections", "/dashboard/connections", "GET /dashboard/connections"},
	{"API keys", "/dashboard/api-keys", "GET /dashboard/api-keys"},
	{"Webhooks", "/dashboard/webhooks", "GET /dashboard/webhooks"},
	{"Users", "/dashboard/users", "GET /dashboard/users"},
	{"Roles", "/dashboard/roles", "GET /dashboard/roles"},
	{"Audit log", "/dashboard/audit", "GET /dashboard/audit"},
	{"Settings", "/dashboard/settings", "GET /dashboard/settings"},
}

// render writes page name for a signed-in person, with the navigation
// their permissions allow.
func (q *req) render(status int, name, title, active string, data any) error {
	v := &page{Title: title, Nonce: q.nonce, CSRF: q.csrf, Active: active, Data: data, p: q.p, User: q.sess.RequestedBy,
		Via: q.sess.Via, Mode: q.sess.Mode, Notice: q.takeFlash()}
	for _, l := range nav {
		if v.Can(l.Pattern) {
			v.Nav = append(v.Nav, l)
		}
	}
	v.Org, _ = q.Org()
	if orgs := q.Orgs(); len(orgs) > 1 {
		v.Orgs = orgs
	}
	renderPage(q.w, status, name, v)
	return nil
}

// csp is every dashboard page's Content-Security-Policy: nothing but its
// own nonce'd script and style, images from here, forms to here, never
// framed.
func csp(nonce string) string {
	return "default-src 'none'; script-src 'nonce-" + nonce + "'; style-src 'nonce-" + nonce +
		"'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
}

func renderPage(w http.ResponseWriter, status int, name string, v *page) {
	t, ok := pages()[name]
	if !ok {
		panic("dashboard: no template " + name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", struct {
		*page
		CSS template.CSS
	}{v, css}); err != nil {
		// A template error is a bug; it must not show half a page.
		panic(fmt.Sprintf("dashboard: template %s: %v", name, err))
	}
	ui.Headers(w.Header())
	w.Header().Set("Content-Security-Policy", csp(v.Nonce))
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// problemView is the error page.
type problemView struct {
	Heading, Message   string
	Action, ActionText string
}

// renderError is the surface's error page: what happened in plain words
// and a way on. A person not signed in is sent to the sign-in page.
func (h *Handler) renderError(w http.ResponseWriter, r *http.Request, err error) {
	code := verigate.ErrorCode(err)
	status := httpapi.Status(code)
	q, _ := r.Context().Value(reqKey{}).(*req)
	if err == errSignedOut {
		next := ""
		if r.Method == http.MethodGet {
			next = "?next=" + url.QueryEscape(r.URL.RequestURI())
		}
		http.Redirect(w, r, "/dashboard/sign-in"+next, http.StatusSeeOther)
		return
	}
	v := problemView{Heading: "Something went wrong", Message: "Please try again in a moment.", Action: "/dashboard/", ActionText: "Back to the overview"}
	title := "Something went wrong"
	switch {
	case err == errForm:
		title, v.Heading = "Form expired", "This form has expired"
		v.Message = verigate.ErrorMessage(err)
	case err == access.ErrLoginTokenUsed:
		title, v.Heading = "Link already used", "This sign-in link has already been used"
		v.Message = "Each dashboard sign-in link opens the dashboard once, within 30 minutes of being issued. Ask for a new link, or sign in with your email and password."
		v.Action, v.ActionText = "/dashboard/sign-in", "Sign in"
	case code == verigate.EUNAUTHENTICATED:
		title, v.Heading = "Sign in", "Please sign in"
		v.Message = verigate.ErrorMessage(err)
		v.Action, v.ActionText = "/dashboard/sign-in", "Sign in"
	case code == verigate.ERATELIMITED:
		title, v.Heading = "Too many attempts", "Too many attempts"
		v.Message = verigate.ErrorMessage(err)
		httpapi.SetRetryAfter(w, err)
	case code == verigate.EFORBIDDEN:
		title, v.Heading = "No access", "You do not have access to this"
		v.Message = "Your role does not include this page or action. Ask an administrator of your organization if you need it."
	case code == verigate.ENOTFOUND || code == httpapi.EMETHOD:
		status = http.StatusNotFound
		if code == httpapi.EMETHOD {
			status = http.StatusMethodNotAllowed
		}
		title, v.Heading = "Not found", "We could not find this page"
		v.Message = "It may have been removed, or belong to another organization."
	case code == verigate.ECONFLICT:
		title, v.Heading = "Already changed", "This has already changed"
		v.Message = verigate.ErrorMessage(err)
	case code == verigate.EINVALID || code == verigate.ETOOLARGE:
		title, v.Heading = "Check your entry", "We could not accept that"
		v.Message = verigate.ErrorMessage(err)
	}
	if status == http.StatusInternalServerError {
		v.Message = "Something went wrong on our side. Please try again in a moment."
	}
	if q != nil {
		q.render(status, "problem", title, "", v)
		return
	}
	renderPage(w, status, "problem", &page{Title: title, Nonce: ui.Nonce(), Data: v, problem: true})
}
